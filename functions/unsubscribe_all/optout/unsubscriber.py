"""The unsubscribe rule: one HubSpot call per distinct request, in as few calls as allowed.

Requests asking HubSpot the same thing (same address in any case, business unit and verbose)
share one call. With batching allowed they are grouped by (businessUnitId, verbose) and sent
through the batch endpoint; the rest go as single calls, run concurrently up to a bound. An
account without the batch scope (403) falls back to single calls for the life of the container,
and a batch HubSpot rejected as a whole without naming the culprit is retried input by input,
so one bad address cannot fail its neighbours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from optout.deadline import Deadline
from optout.hubspot.client import HubSpotClient
from optout.hubspot.errors import HubSpotError, MissingScopesError, PermanentError
from optout.hubspot.responses import NO_STATUS_CHANGE, SubscriptionStatus, UnsubscribeAllResult
from optout.settings import BatchMode
from optout.unsubscribe_request import UnsubscribeRequest

Target = tuple[str, int | None, bool]
Outcome = UnsubscribeAllResult | HubSpotError


class Unsubscriber:
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

    def unsubscribe_one(self, request: UnsubscribeRequest, deadline: Deadline) -> UnsubscribeAllResult:
        """One request, one single call; raises HubSpotError."""
        return self._client.unsubscribe_all(
            request.subscriber,
            business_unit_id=request.business_unit_id,
            verbose=request.verbose,
            deadline=deadline,
        )

    def done_before(self, request: UnsubscribeRequest, deadline: Deadline) -> UnsubscribeAllResult | None:
        """HubSpot's opt-out for `request` if it already holds one (read, not written), else None.

        None too when the status cannot be read: unsubscribing again is harmless, a lost opt-out is not.
        """
        try:
            status = self._client.unsubscribe_all_status(
                request.subscriber, business_unit_id=request.business_unit_id, deadline=deadline
            )
        except HubSpotError:
            return None
        if not status.unsubscribed:
            return None
        already = SubscriptionStatus(None, "UNSUBSCRIBED", NO_STATUS_CHANGE, request.business_unit_id)
        return UnsubscribeAllResult(request.subscriber, (already,), {"status": "COMPLETE", "results": []})

    def unsubscribe_many(
        self, requests: Sequence[UnsubscribeRequest], deadline: Deadline
    ) -> dict[Target, Outcome]:
        """Each distinct target of `requests` mapped to its result or error; never raises HubSpotError."""
        groups: dict[tuple[int | None, bool], dict[Target, UnsubscribeRequest]] = {}
        for request in requests:
            groups.setdefault((request.business_unit_id, request.verbose), {}).setdefault(
                request.target, request
            )
        outcomes: dict[Target, Outcome] = {}
        singles: list[UnsubscribeRequest] = []
        batched = [list(group.values()) for group in groups.values() if self._use_batch(len(group))]
        for group in groups.values():
            if not self._use_batch(len(group)):
                singles.extend(group.values())
        for group_outcomes, fallbacks in self._executor.map(lambda g: self._send_batch(g, deadline), batched):
            outcomes.update(group_outcomes)
            singles.extend(fallbacks)
        for request, outcome in zip(
            singles, self._executor.map(lambda r: self._send_single(r, deadline), singles), strict=True
        ):
            outcomes[request.target] = outcome
        return outcomes

    def would_batch(self, size: int) -> bool:
        """Whether `size` requests of one group would go through the batch endpoint now."""
        return self._use_batch(size)

    def submit_single(self, request: UnsubscribeRequest, deadline: Deadline) -> Future[Outcome]:
        """A single call on the bounded pool, started now; its future never raises HubSpotError."""
        return self._executor.submit(self._send_single, request, deadline)

    def _use_batch(self, size: int) -> bool:
        if self._batch_mode is BatchMode.OFF or self.batch_disabled:
            return False
        return self._batch_mode is BatchMode.ON or size >= 2

    def _send_single(self, request: UnsubscribeRequest, deadline: Deadline) -> Outcome:
        try:
            return self.unsubscribe_one(request, deadline)
        except HubSpotError as error:
            return error

    def _send_batch(
        self, group: Sequence[UnsubscribeRequest], deadline: Deadline
    ) -> tuple[Mapping[Target, Outcome], list[UnsubscribeRequest]]:
        """The batch call for one group: outcomes, and the requests to retry as single calls."""
        first = group[0]
        batch = self._client.unsubscribe_all_batch(
            [request.subscriber for request in group],
            business_unit_id=first.business_unit_id,
            verbose=first.verbose,
            deadline=deadline,
        )
        outcomes: dict[Target, Outcome] = {}
        fallbacks: list[UnsubscribeRequest] = []
        for request in group:
            result = batch.succeeded.get(request.subscriber)
            if result is not None:
                outcomes[request.target] = result
                continue
            error = batch.failed[request.subscriber]
            if isinstance(error, MissingScopesError):
                self._disable_batch(error)
                fallbacks.append(request)
            elif isinstance(error, PermanentError) and error.batch_wide:
                fallbacks.append(request)
            else:
                outcomes[request.target] = error
        return outcomes, fallbacks

    def _disable_batch(self, error: MissingScopesError) -> None:
        if not self._batch_scope_missing.is_set():
            self._batch_scope_missing.set()
            if self._on_batch_disabled is not None:
                self._on_batch_disabled(error)
