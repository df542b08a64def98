"""The coalescer: one round of HubSpot requests for all the records of an invocation."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from optout.domain.coalescer import Coalescer, ImmediateSender
from optout.domain.request import Target, UnsubscribeRequest
from optout.outcomes import Change, Outcome, RetryKind, RetryLater, Unsubscribed


class RecordingSender:
    def __init__(self) -> None:
        self.rounds: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, requests: Sequence[UnsubscribeRequest]) -> dict[Target, Outcome]:
        with self.lock:
            self.rounds.append(sorted(request.subscriber for request in requests))
        return {request.target: Unsubscribed(request.subscriber, Change.UNSUBSCRIBED) for request in requests}


def submit_all(coalescer: Coalescer, requests: list[UnsubscribeRequest | None]) -> list[Outcome | None]:
    """Each entry on its own thread: submits the request, or closes its ticket (None)."""
    tickets = [coalescer.ticket() for _ in requests]

    def run(index: int) -> Outcome | None:
        request, ticket = requests[index], tickets[index]
        try:
            return ticket.submit(request) if request is not None else None
        finally:
            ticket.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, range(len(requests))))


def test_all_records_go_out_in_one_round_and_each_gets_its_own_outcome():
    # Given three records submitting at once
    sender = RecordingSender()
    coalescer = Coalescer(3, sender, quiet_s=10, max_wait_s=10)
    requests = [UnsubscribeRequest(f"user{n}@example.com") for n in range(3)]

    # When they submit
    outcomes = submit_all(coalescer, list(requests))

    # Then one round carried all three and each waiter got the result for its own address
    assert sender.rounds == [["user0@example.com", "user1@example.com", "user2@example.com"]]
    assert [outcome.subscriber for outcome in outcomes if isinstance(outcome, Unsubscribed)] == [
        "user0@example.com",
        "user1@example.com",
        "user2@example.com",
    ]


def test_records_that_finish_without_a_call_do_not_hold_the_round():
    # Given five records of which two are replays that never submit
    sender = RecordingSender()
    coalescer = Coalescer(5, sender, quiet_s=10, max_wait_s=10)
    requests: list[UnsubscribeRequest | None] = [
        UnsubscribeRequest("a@example.com"),
        None,
        UnsubscribeRequest("b@example.com"),
        None,
        UnsubscribeRequest("c@example.com"),
    ]

    # When they run, then the three submitters go out in one round, long before the quiet time
    outcomes = submit_all(coalescer, requests)
    assert sender.rounds == [["a@example.com", "b@example.com", "c@example.com"]]
    assert outcomes[1] is None


def test_the_same_request_from_two_records_is_sent_once():
    sender = RecordingSender()
    coalescer = Coalescer(2, sender, quiet_s=10, max_wait_s=10)
    outcomes = submit_all(
        coalescer, [UnsubscribeRequest("jane@example.com"), UnsubscribeRequest("JANE@example.com")]
    )
    assert sender.rounds == [["jane@example.com"]]
    assert outcomes[0] is outcomes[1]


def test_a_slow_record_does_not_hold_the_others_beyond_a_quiet_spell():
    # Given two records, one of which takes long to decide
    sender = RecordingSender()
    coalescer = Coalescer(2, sender, quiet_s=0.05, max_wait_s=10)
    fast, slow = coalescer.ticket(), coalescer.ticket()

    # When the fast one submits, it is sent on its own once nothing else happened for a while
    outcome = fast.submit(UnsubscribeRequest("fast@example.com"))
    assert isinstance(outcome, Unsubscribed)
    assert sender.rounds == [["fast@example.com"]]

    # And the slow one forms a round of its own when it comes
    assert isinstance(slow.submit(UnsubscribeRequest("slow@example.com")), Unsubscribed)
    assert sender.rounds == [["fast@example.com"], ["slow@example.com"]]


def test_records_still_arriving_keep_the_round_open_up_to_the_longest_wait():
    # Given three records arriving 30 ms apart, a quiet spell of 50 ms and a longest wait of 1 s
    sender = RecordingSender()
    coalescer = Coalescer(4, sender, quiet_s=0.05, max_wait_s=1.0)
    tickets = [coalescer.ticket() for _ in range(4)]

    def late(index: int) -> Outcome:
        time.sleep(0.03 * index)  # the arrival times are the point of this test
        return tickets[index].submit(UnsubscribeRequest(f"user{index}@example.com"))

    # When they submit, with the fourth never deciding
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(late, range(3)))

    # Then the three went out together: each arrived within the quiet spell of the previous one
    assert sender.rounds == [["user0@example.com", "user1@example.com", "user2@example.com"]]


def test_a_failing_round_wakes_every_waiter_with_a_retryable_error():
    def broken(requests: Sequence[UnsubscribeRequest]) -> dict[Target, Outcome]:
        raise RuntimeError("boom")

    coalescer = Coalescer(2, broken, quiet_s=10, max_wait_s=10)
    outcomes = submit_all(
        coalescer, [UnsubscribeRequest("a@example.com"), UnsubscribeRequest("b@example.com")]
    )
    assert all(isinstance(outcome, RetryLater) and outcome.kind is RetryKind.INTERNAL for outcome in outcomes)


def test_the_immediate_sender_sends_each_distinct_request_at_once():
    # Given a sender for an invocation that does not batch
    sent: list[str] = []

    def send(request: UnsubscribeRequest) -> Future[Outcome]:
        sent.append(request.subscriber)
        done: Future[Outcome] = Future()
        done.set_result(Unsubscribed(request.subscriber, Change.UNSUBSCRIBED))
        return done

    sender = ImmediateSender(send)

    # When three records hand in two distinct requests, without waiting for one another
    outcomes = [
        sender.ticket().submit(UnsubscribeRequest(address))
        for address in ("jane@example.com", "JANE@example.com", "john@example.com")
    ]

    # Then each distinct request went out once, and the duplicate shares its outcome
    assert sent == ["jane@example.com", "john@example.com"]
    assert outcomes[0] is outcomes[1]
