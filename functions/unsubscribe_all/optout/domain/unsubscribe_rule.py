"""The unsubscribe rule: one HubSpot call per distinct request, in as few calls as allowed.

Requests asking HubSpot the same thing (the same subscriber as HubSpot tells them apart, the
same business unit) share one call. With batching allowed they are grouped by businessUnitId and
sent through the batch endpoint; the rest go as single calls, run concurrently up to a bound.
An account without the batch scope (403) falls back to single calls for the life of the
container, and a batch HubSpot rejected as a whole without naming the culprit is retried input
by input, so one bad address cannot fail its neighbours.

Examples:
    >>> rule = UnsubscribeRule(client, batch_mode=BatchMode.AUTO, max_concurrency=10)  # doctest: +SKIP
    >>> outcomes = rule.send(requests, deadline)  # doctest: +SKIP
    >>> outcomes[requests[0].target]  # doctest: +SKIP
    Unsubscribed(subscriber='jane@example.com', change=<Change.UNSUBSCRIBED: 'unsubscribed'>, ...)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from enum import StrEnum

from optout.deadline import Deadline
from optout.domain.request import Target, UnsubscribeRequest
from optout.hubspot.client import HubSpotClient
from optout.hubspot.errors import HubSpotError, MissingScopesError, PermanentError
from optout.hubspot.responses import UnsubscribeAllStatus, already_unsubscribed
from optout.outcomes import Outcome, Rejected, RetryKind, RetryLater, Unsubscribed


class BatchMode(StrEnum):
    """Whether SQS batches use HubSpot's batch endpoint (`auto`: when a batch has several records)."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"

    @classmethod
    def parse(cls, value: str) -> BatchMode:
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError("must be one of auto, on, off") from None


class UnsubscribeRule:
    def __init__(
        self,
        client: HubSpotClient,
        *,
        batch_mode: BatchMode,
        max_concurrency: int,
        on_batch_disabled: Callable[[MissingScopesError], None] | None = None,
    ) -> None:
        self._client = client
        self._batch_mode = batch_mode
        self._on_batch_disabled = on_batch_disabled
        self._batch_scope_missing = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="hubspot")

    @property
    def batch_disabled(self) -> bool:
        return self._batch_scope_missing.is_set()

    def would_batch(self, size: int) -> bool:
        """Whether `size` requests of one group would go through the batch endpoint now."""
        if self._batch_mode is BatchMode.OFF or self.batch_disabled:
            return False
        return self._batch_mode is BatchMode.ON or size >= 2

    def send_one(self, request: UnsubscribeRequest, deadline: Deadline) -> Outcome:
        """One request, one single call, on the caller's thread."""
        try:
            return self._client.unsubscribe_all(
                request.subscriber, business_unit_id=request.business_unit_id, deadline=deadline
            )
        except HubSpotError as error:
            return error.outcome()

    def start_one(self, request: UnsubscribeRequest, deadline: Deadline) -> Future[Outcome]:
        """A single call on the bounded pool, started now."""
        return self._executor.submit(self.send_one, request, deadline)

    def send(self, requests: Sequence[UnsubscribeRequest], deadline: Deadline) -> dict[Target, Outcome]:
        """Each distinct target of `requests` mapped to its outcome."""
        groups: dict[int | None, dict[Target, UnsubscribeRequest]] = {}
        for request in requests:
            groups.setdefault(request.business_unit_id, {}).setdefault(request.target, request)
        outcomes: dict[Target, Outcome] = {}
        singles: list[UnsubscribeRequest] = []
        batched = [list(group.values()) for group in groups.values() if self.would_batch(len(group))]
        for group in groups.values():
            if not self.would_batch(len(group)):
                singles.extend(group.values())
        for group_outcomes, fallbacks in self._executor.map(lambda g: self._send_batch(g, deadline), batched):
            outcomes.update(group_outcomes)
            singles.extend(fallbacks)
        for request, outcome in zip(
            singles, self._executor.map(lambda r: self.send_one(r, deadline), singles), strict=True
        ):
            outcomes[request.target] = outcome
        return outcomes

    def done_before(
        self, request: UnsubscribeRequest, deadline: Deadline
    ) -> Unsubscribed | RetryLater | None:
        """Whether HubSpot already holds the opt-out `request` asks for (read, never written).

        Its opt-out when it does; None when it does not, or when its status can never be read here
        (no read scope, a refusal): then unsubscribing again is harmless and a lost opt-out is not.
        RetryLater when the read failed for a reason that passes (a rate limit, an outage): an
        earlier attempt may have written it, so nothing is written blind.
        """
        status = self.read_status(request.subscriber, request.business_unit_id, deadline)
        if isinstance(status, UnsubscribeAllStatus):
            held = status.unsubscribed_for(request.business_unit_id)
            return already_unsubscribed(request.subscriber) if held else None
        if isinstance(status, Rejected) or status.kind is RetryKind.MISSING_SCOPES:
            return None
        return replace(status, may_have_applied=True)

    def read_status(
        self, subscriber: str, business_unit_id: int | None, deadline: Deadline
    ) -> UnsubscribeAllStatus | RetryLater | Rejected:
        """HubSpot's unsubscribe-all status for the subscriber, or why it could not be read."""
        try:
            return self._client.unsubscribe_all_status(
                subscriber, business_unit_id=business_unit_id, deadline=deadline
            )
        except HubSpotError as error:
            return error.outcome()

    def _send_batch(
        self, group: Sequence[UnsubscribeRequest], deadline: Deadline
    ) -> tuple[Mapping[Target, Outcome], list[UnsubscribeRequest]]:
        """The batch call for one group: outcomes, and the requests to retry as single calls."""
        answer = self._client.unsubscribe_all_batch(
            [request.subscriber for request in group],
            business_unit_id=group[0].business_unit_id,
            deadline=deadline,
        )
        outcomes: dict[Target, Outcome] = {}
        fallbacks: list[UnsubscribeRequest] = []
        for request in group:
            result = answer[request.subscriber]
            if isinstance(result, MissingScopesError):
                self._disable_batch(result)
                fallbacks.append(request)
            elif isinstance(result, PermanentError) and result.batch_wide:
                fallbacks.append(request)
            elif isinstance(result, HubSpotError):
                outcomes[request.target] = result.outcome()
            else:
                outcomes[request.target] = result
        return outcomes, fallbacks

    def _disable_batch(self, error: MissingScopesError) -> None:
        if not self._batch_scope_missing.is_set():
            self._batch_scope_missing.set()
            if self._on_batch_disabled is not None:
                self._on_batch_disabled(error)
