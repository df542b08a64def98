"""An idempotency store in memory, for unit tests of the domain: the DynamoDB one's rules, no AWS.

It follows what the DynamoDB store does: a claim is an in-progress record that expires after
`in_progress_s`; a fingerprint that differs from the stored one is refused before anything else;
work that raises deletes the claim, unless it may have reached HubSpot (then the claim is kept,
expired, for a takeover); a success is kept as `Unsubscribed.to_record()`. Switches make
the store fail as DynamoDB can: refuse claims (`unavailable`), or lose the success write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optout.aws.idempotency_store import Claim, Fresh, NotDoneError, Refusal, Replayed, StoreAnswer, Work
from optout.deadline import Deadline


@dataclass
class _Entry:
    fingerprint: str
    in_progress_until: float | None  # None once completed
    record: dict[str, Any] = field(default_factory=dict)


class InMemoryIdempotencyStore:
    def __init__(self, in_progress_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._in_progress_s = in_progress_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self.unavailable = False
        self.lose_success_writes = False
        self.claims = 0

    def once(self, claim: Claim, work: Work, deadline: Deadline) -> StoreAnswer:
        with self._lock:
            if self.unavailable:
                return Refusal.STORE_UNAVAILABLE
            entry = self._entries.get(claim.identity)
            if entry is not None and entry.fingerprint != claim.fingerprint:
                return Refusal.KEY_REUSED
            if entry is not None and entry.in_progress_until is None:
                return Replayed(entry.record)
            if (
                entry is not None
                and entry.in_progress_until is not None
                and entry.in_progress_until > self._clock()
            ):
                return Refusal.IN_PROGRESS
            taken_over = entry is not None
            self._entries[claim.identity] = _Entry(claim.fingerprint, self._clock() + self._in_progress_s)
            self.claims += 1
        try:
            done = work(taken_over)
        except NotDoneError as not_done:
            with self._lock:
                if not_done.may_have_applied:
                    self._entries[claim.identity] = _Entry(claim.fingerprint, self._clock() - 1)
                else:
                    del self._entries[claim.identity]
            raise
        except BaseException:
            with self._lock:
                del self._entries[claim.identity]
            raise
        with self._lock:
            if self.lose_success_writes:
                return Fresh(done, recorded=False)
            self._entries[claim.identity] = _Entry(claim.fingerprint, None, done.to_record())
        return Fresh(done)

    def hold(self, claim: Claim) -> None:
        """An in-progress claim of another attempt, still at work."""
        with self._lock:
            self._entries[claim.identity] = _Entry(claim.fingerprint, self._clock() + self._in_progress_s)

    def leave_lost_attempt(self, claim: Claim) -> None:
        """An in-progress claim whose attempt ended without saying how (a timeout, a store outage)."""
        with self._lock:
            self._entries[claim.identity] = _Entry(claim.fingerprint, self._clock() - 1)

    def record_of(self, identity: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(identity)
            return entry.record if entry is not None and entry.in_progress_until is None else None
