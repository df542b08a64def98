"""Gathers the HubSpot requests of one invocation's records so they go out together.

Powertools wraps idempotency around one function call per record, while HubSpot's batch
endpoint wants many records in one HTTP call. Each record's idempotent function runs on its
own thread and, inside it, hands its request to the coalescer and waits. The coalescer knows how
many records may still submit; once each has either submitted or finished without a call
(replayed from the store, say), it sends everything gathered in one go and wakes each waiter
with its own outcome. A record held up (a slow idempotency-store write) cannot hold the others
for long: once no record has arrived or finished for `quiet_s`, or `max_wait_s` after the first
arrival, what has been gathered goes out, and later arrivals form a new round. Waiting for a
quiet spell rather than a fixed time keeps a busy, slow store from splitting the round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future

from optout.domain.request import Target, UnsubscribeRequest
from optout.observability import logger
from optout.outcomes import Outcome, RetryKind, RetryLater

SendRound = Callable[[Sequence[UnsubscribeRequest]], Mapping[Target, Outcome]]


class Coalescer:
    def __init__(self, expected: int, send: SendRound, quiet_s: float = 0.2, max_wait_s: float = 2.0) -> None:
        self._send = send
        self._quiet_s = quiet_s
        self._max_wait_s = max_wait_s
        self._changed = threading.Condition()
        self._undecided = expected
        self._gathered: list[UnsubscribeRequest] = []
        self._first_gathered_at = 0.0
        self._last_activity_at = time.monotonic()
        self._sending = False
        self._unanswered: set[Target] = set()
        self._outcomes: dict[Target, Outcome] = {}

    def ticket(self) -> Ticket:
        """One per expected record; the record either submits through it or closes it."""
        return Ticket(self)

    def _submit(self, request: UnsubscribeRequest) -> Outcome:
        target = request.target
        with self._changed:
            self._undecided -= 1
            self._last_activity_at = time.monotonic()
            # A target already asked for (by a record with another key) rides on that call.
            if target not in self._outcomes and target not in self._unanswered:
                if not self._gathered:
                    self._first_gathered_at = time.monotonic()
                self._gathered.append(request)
                self._unanswered.add(target)
            self._changed.notify_all()
            while target not in self._outcomes:
                if self._sending:
                    self._changed.wait()
                elif self._gathered and (self._undecided == 0 or self._time_until_due() <= 0):
                    self._send_round()
                else:
                    self._changed.wait(self._time_until_due())
            return self._outcomes[target]

    def _close(self) -> None:
        with self._changed:
            self._undecided -= 1
            self._last_activity_at = time.monotonic()
            self._changed.notify_all()

    def _time_until_due(self) -> float:
        due_at = min(self._last_activity_at + self._quiet_s, self._first_gathered_at + self._max_wait_s)
        return max(0.0, due_at - time.monotonic())

    def _send_round(self) -> None:
        """Sends what is gathered, with the lock released during the HTTP calls."""
        batch, self._gathered = self._gathered, []
        self._sending = True
        self._changed.release()
        try:
            outcomes = dict(self._send(batch))
        except Exception as error:
            logger.exception("sending a round of HubSpot requests failed", requests=len(batch))
            failure = RetryLater(RetryKind.INTERNAL, f"sending to HubSpot failed: {type(error).__name__}")
            outcomes = {request.target: failure for request in batch}
        finally:
            self._changed.acquire()
        self._sending = False
        self._outcomes.update(outcomes)
        self._unanswered.difference_update(request.target for request in batch)
        self._changed.notify_all()


class ImmediateSender:
    """For an invocation that will not batch: each request goes out as soon as it is handed in
    (its idempotency-store write overlaps the others' HubSpot calls), once per distinct target."""

    def __init__(self, send: Callable[[UnsubscribeRequest], Future[Outcome]]) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._calls: dict[Target, Future[Outcome]] = {}

    def ticket(self) -> Ticket:
        return Ticket(self)

    def _submit(self, request: UnsubscribeRequest) -> Outcome:
        with self._lock:
            call = self._calls.get(request.target)
            if call is None:
                call = self._calls[request.target] = self._send(request)
        return call.result()

    def _close(self) -> None:
        """Nothing waits for records that make no call."""


class Ticket:
    """A record's place in the round: `submit` at most once, then `close` in any case."""

    def __init__(self, coalescer: Coalescer | ImmediateSender) -> None:
        self._coalescer = coalescer
        self._used = False

    def submit(self, request: UnsubscribeRequest) -> Outcome:
        if self._used:
            raise RuntimeError("a ticket submits once")
        self._used = True
        return self._coalescer._submit(request)

    def close(self) -> None:
        if not self._used:
            self._used = True
            self._coalescer._close()
