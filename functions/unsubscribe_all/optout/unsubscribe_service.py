"""Runs unsubscribe requests exactly once per identity, in as few HubSpot calls as allowed.

The domain entry point: it does not know whether requests came from a queue or over HTTP. Each
request ends in one of three states, and only in these, so nothing is ever dropped:
- `Succeeded`: HubSpot confirmed it now, or did before (replayed from the idempotency store);
- `RetryLater`: it may succeed later (rate limit, outage, token trouble, a concurrent duplicate);
- `Rejected`: it can never succeed (HubSpot refused it, or its key was reused for another request).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from optout.coalescer import Coalescer, ImmediateSender, Ticket
from optout.deadline import Deadline
from optout.hubspot.errors import HubSpotError, PermanentError, RateLimitedError, TransientError
from optout.hubspot.responses import UnsubscribeAllResult
from optout.idempotency import IdempotencyGuard
from optout.masking import mask_emails_in_text
from optout.observability import logger
from optout.stored_outcome import stored_outcome
from optout.unsubscribe_request import Reason, UnsubscribeRequest
from optout.unsubscriber import Unsubscriber

LATE_RECORD_FIRST_DELAY_S = 0.5
MAX_RECORD_THREADS = 128


@dataclass(frozen=True, slots=True)
class WorkItem:
    request: UnsubscribeRequest
    identity: str


@dataclass(frozen=True, slots=True)
class Succeeded:
    stored: dict[str, Any]
    replayed: bool
    # HubSpot's fresh answer; None for a replay.
    result: UnsubscribeAllResult | None = None


@dataclass(frozen=True, slots=True)
class RetryLater:
    kind: str
    message: str
    retry_after_s: float | None = None
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Reason
    message: str


ItemResult = Succeeded | RetryLater | Rejected


def retry_later(error: HubSpotError) -> RetryLater:
    if isinstance(error, RateLimitedError):
        return RetryLater(error.kind, mask_emails_in_text(error.message), error.retry_after_s, error.policy)
    retry_after = error.retry_after_s if isinstance(error, TransientError) else None
    return RetryLater(error.kind, mask_emails_in_text(error.message), retry_after)


class UnsubscribeService:
    def __init__(self, unsubscriber: Unsubscriber, idempotency: IdempotencyGuard) -> None:
        self._unsubscriber = unsubscriber
        self._idempotency = idempotency
        self._record_threads = ThreadPoolExecutor(max_workers=MAX_RECORD_THREADS, thread_name_prefix="record")

    def unsubscribe(self, item: WorkItem, deadline: Deadline) -> ItemResult:
        """One request with one single call (the API path)."""
        fresh: list[UnsubscribeAllResult] = []

        def work() -> dict[str, Any]:
            fresh.append(self._unsubscriber.unsubscribe_one(item.request, deadline))
            return stored_outcome(fresh[0])

        return self._guarded(item, work, lambda: fresh[0] if fresh else None, deadline)

    def unsubscribe_many(self, items: Sequence[WorkItem], deadline: Deadline) -> list[ItemResult]:
        """Many requests together (the queue path): one result per item, in order.

        Items sharing an identity run once; the others take its result, or are rejected if
        they ask for something else under the same key.
        """
        leaders: dict[str, WorkItem] = {}
        for item in items:
            leaders.setdefault(item.identity, item)
        sender: Coalescer | ImmediateSender
        if self._unsubscriber.would_batch(len(leaders)):
            sender = Coalescer(
                len(leaders), lambda requests: self._unsubscriber.unsubscribe_many(requests, deadline)
            )
        else:
            sender = ImmediateSender(lambda request: self._unsubscriber.submit_single(request, deadline))
        futures = {
            identity: self._record_threads.submit(self._through_coalescer, leader, sender.ticket(), deadline)
            for identity, leader in leaders.items()
        }
        by_identity = {identity: future.result() for identity, future in futures.items()}
        results: list[ItemResult] = []
        for item in items:
            leader, result = leaders[item.identity], by_identity[item.identity]
            if item is leader:
                results.append(result)
            elif item.request.fingerprint() != leader.request.fingerprint():
                results.append(
                    Rejected(Reason.IDEMPOTENCY_KEY_REUSED, "idempotency key reused for another request")
                )
            elif isinstance(result, Succeeded):
                results.append(Succeeded(result.stored, replayed=True))
            else:
                results.append(result)
        return results

    def _through_coalescer(self, item: WorkItem, ticket: Ticket, deadline: Deadline) -> ItemResult:
        fresh: list[UnsubscribeAllResult] = []

        def work() -> dict[str, Any]:
            outcome = ticket.submit(item.request)
            if isinstance(outcome, HubSpotError):
                raise outcome
            fresh.append(outcome)
            return stored_outcome(outcome)

        try:
            return self._guarded(item, work, lambda: fresh[0] if fresh else None, deadline)
        finally:
            ticket.close()

    def _guarded(
        self,
        item: WorkItem,
        work: Callable[[], dict[str, Any]],
        fresh_result: Callable[[], UnsubscribeAllResult | None],
        deadline: Deadline,
    ) -> ItemResult:
        fingerprint = item.request.fingerprint()
        found: list[UnsubscribeAllResult] = []

        def work_once(after_lost_attempt: bool) -> dict[str, Any]:
            # A lost attempt may have reached HubSpot: if HubSpot holds the opt-out, it is done.
            if after_lost_attempt and (done := self._unsubscriber.done_before(item.request, deadline)):
                found.append(done)
                return stored_outcome(done)
            return work()

        def fresh_or_found() -> UnsubscribeAllResult | None:
            return found[0] if found else fresh_result()

        try:
            stored, replayed = self._idempotency.run(item.identity, fingerprint, work_once)
        except PermanentError as error:
            return Rejected(Reason.HUBSPOT_REJECTED, mask_emails_in_text(error.message))
        except HubSpotError as error:
            return retry_later(error)
        except IdempotencyValidationError:
            return Rejected(Reason.IDEMPOTENCY_KEY_REUSED, "idempotency key reused for another request")
        except IdempotencyAlreadyInProgressError:
            # No retry time here: how long the other invocation may take is the trigger's to know
            # (a queue message returns after the function's timeout; an API caller gets 409).
            return RetryLater("in_progress", "the same request is being processed now")
        except IdempotencyPersistenceLayerError as error:
            result = fresh_or_found()
            if result is None:
                return RetryLater(
                    "idempotency_store", f"idempotency store unavailable: {type(error).__name__}"
                )
            # HubSpot did it; only the record of it failed. Acknowledge, and try to record it again.
            return self._recorded_late(item, fingerprint, result, deadline)
        except Exception as error:
            logger.exception(
                "unexpected error processing a request", identity_kind=item.identity.split(":")[0]
            )
            return RetryLater("internal", f"unexpected {type(error).__name__}")
        return Succeeded(stored, replayed, None if replayed else fresh_or_found())

    def _recorded_late(
        self, item: WorkItem, fingerprint: str, result: UnsubscribeAllResult, deadline: Deadline
    ) -> Succeeded:
        """Keeps trying to store a success while the invocation has time (a store outage).

        Whatever happens the request succeeded and is acknowledged: only a later duplicate of
        this identity, if the record is never written, would call HubSpot again, and HubSpot
        answers that with NO_STATUS_CHANGE.
        """
        stored = stored_outcome(result)
        delay = LATE_RECORD_FIRST_DELAY_S
        while True:
            try:
                self._idempotency.save_success(item.identity, fingerprint, stored)
                break
            except Exception as error:
                if not deadline.allows(delay):
                    logger.warning(
                        "unsubscribed but could not record it for idempotency", error=type(error).__name__
                    )
                    break
            time.sleep(delay)
            delay *= 2
        return Succeeded(stored, replayed=False, result=result)
