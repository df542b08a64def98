"""Carries out unsubscribe requests exactly once per identity, in as few HubSpot calls as allowed.

The domain's entry point, the same for every route: it does not know whether requests came from a
queue or over HTTP. Each request ends as one `Outcome` (see `optout.outcomes`), reported once
(a log line and metrics) here.

Examples:
    >>> service = UnsubscribeService(rule, store, metrics)  # doctest: +SKIP
    >>> item = WorkItem(UnsubscribeRequest("jane@example.com"), "key:k-1", correlation_id="req-1")
    >>> service.unsubscribe(item, Deadline.after(10))  # doctest: +SKIP
    Unsubscribed(subscriber='jane@example.com', change=<Change.UNSUBSCRIBED: 'unsubscribed'>, ...)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from optout.aws.idempotency_store import (
    Claim,
    Fresh,
    IdempotencyStore,
    NotDoneError,
    Refusal,
    Replayed,
    StoreAnswer,
)
from optout.deadline import Deadline
from optout.domain.coalescer import Coalescer, ImmediateSender, Ticket
from optout.domain.reporting import report
from optout.domain.request import UnsubscribeRequest
from optout.domain.unsubscribe_rule import UnsubscribeRule
from optout.hubspot.responses import UnsubscribeAllStatus
from optout.observability import MetricsRecorder, logger
from optout.outcomes import Outcome, Reason, Rejected, RetryKind, RetryLater, Unsubscribed

MAX_RECORD_THREADS = 128
KEY_REUSED = Rejected(Reason.IDEMPOTENCY_KEY_REUSED, "idempotency key reused for another request")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One request to carry out.

    `identity` makes it happen once (the producer's key, else the delivery's id); None leaves it
    unguarded, as HubSpot's own batch call through the facade is. `correlation_id` ties its log
    line to the delivery (an SQS message id, an API request id).
    """

    request: UnsubscribeRequest
    identity: str | None
    correlation_id: str


class UnsubscribeService:
    def __init__(self, rule: UnsubscribeRule, store: IdempotencyStore, metrics: MetricsRecorder) -> None:
        self._rule = rule
        self._store = store
        self._metrics = metrics
        self._record_threads = ThreadPoolExecutor(max_workers=MAX_RECORD_THREADS, thread_name_prefix="record")

    def unsubscribe(self, item: WorkItem, deadline: Deadline) -> Outcome:
        """One request with one single call (an API request: HubSpot's single answer is passed on)."""
        outcome = self._once(item, lambda request: self._rule.send_one(request, deadline), deadline)
        self._report(item, outcome)
        return outcome

    def unsubscribe_many(self, items: Sequence[WorkItem], deadline: Deadline) -> list[Outcome]:
        """Many requests together (a queue batch, HubSpot's batch call): one outcome per item, in order.

        Items sharing an identity run once; the others take its outcome, or are rejected if they
        ask for something else under the same key.
        """
        leaders: dict[str | int, WorkItem] = {}
        for index, item in enumerate(items):
            leaders.setdefault(item.identity if item.identity is not None else index, item)
        sender: Coalescer | ImmediateSender
        if self._rule.would_batch(len(leaders)):
            sender = Coalescer(len(leaders), lambda requests: self._rule.send(requests, deadline))
        else:
            sender = ImmediateSender(lambda request: self._rule.start_one(request, deadline))
        futures = {
            key: self._record_threads.submit(self._through, leader, sender.ticket(), deadline)
            for key, leader in leaders.items()
        }
        by_leader = {key: future.result() for key, future in futures.items()}
        outcomes: list[Outcome] = []
        for index, item in enumerate(items):
            key = item.identity if item.identity is not None else index
            outcome = _follower_outcome(item, leaders[key], by_leader[key])
            self._report(item, outcome)
            outcomes.append(outcome)
        return outcomes

    def read_status(
        self, subscriber: str, business_unit_id: int | None, deadline: Deadline
    ) -> UnsubscribeAllStatus | RetryLater | Rejected:
        """HubSpot's unsubscribe-all status for the subscriber, or why it could not be read."""
        return self._rule.read_status(subscriber, business_unit_id, deadline)

    def _through(self, item: WorkItem, ticket: Ticket, deadline: Deadline) -> Outcome:
        try:
            return self._once(item, ticket.submit, deadline)
        finally:
            ticket.close()

    def _once(
        self, item: WorkItem, send: Callable[[UnsubscribeRequest], Outcome], deadline: Deadline
    ) -> Outcome:
        def work(after_lost_attempt: bool) -> Unsubscribed:
            # A lost attempt may have reached HubSpot: if HubSpot holds the opt-out, it is done.
            if after_lost_attempt:
                held = self._rule.done_before(item.request, deadline)
                if isinstance(held, RetryLater):
                    raise NotDoneError(held)
                if held is not None:
                    return held
            outcome = send(item.request)
            if not isinstance(outcome, Unsubscribed):
                raise NotDoneError(outcome)
            return outcome

        try:
            if item.identity is None:
                return send(item.request)
            answer = self._store.once(Claim(item.identity, item.request.fingerprint()), work, deadline)
        except NotDoneError as failed:
            return failed.outcome
        except Exception as error:
            identity_kind = item.identity.split(":")[0] if item.identity is not None else None
            logger.exception("unexpected error processing a request", identity_kind=identity_kind)
            return RetryLater(RetryKind.INTERNAL, f"unexpected {type(error).__name__}")
        return _outcome_of(answer, item.request.subscriber)

    def _report(self, item: WorkItem, outcome: Outcome) -> None:
        report(self._metrics, outcome, correlation_id=item.correlation_id, subscriber=item.request.subscriber)


def _outcome_of(answer: StoreAnswer, subscriber: str) -> Outcome:
    if isinstance(answer, Fresh):
        return answer.done
    if isinstance(answer, Replayed):
        return Unsubscribed.from_record(answer.record, subscriber)
    if answer is Refusal.KEY_REUSED:
        return KEY_REUSED
    if answer is Refusal.IN_PROGRESS:
        # No retry time here: how long the other attempt may take is the trigger's to know (a
        # queue message returns after the function's timeout; an API caller gets 409).
        return RetryLater(RetryKind.IN_PROGRESS, "the same request is being processed now")
    return RetryLater(RetryKind.IDEMPOTENCY_STORE, "the idempotency store is unavailable")


def _follower_outcome(item: WorkItem, leader: WorkItem, outcome: Outcome) -> Outcome:
    """What an item gets from the leader that ran for its identity."""
    if item is leader:
        return outcome
    if item.request.fingerprint() != leader.request.fingerprint():
        return KEY_REUSED
    if isinstance(outcome, Unsubscribed):
        return replace(outcome, subscriber=item.request.subscriber, answer=None, replayed=True)
    return outcome
