"""HubSpot's answers turned into small typed results, read leniently.

HubSpot's bodies drift from the published schema (a top-level `status` of `SUCCESS`, missing
timestamps, `null` reasons, empty `results` when `verbose=false`), so nothing here insists on a
field it does not need, and the whole body is kept for callers that pass it on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

UNSUBSCRIBE_OCCURRED = "UNSUBSCRIBE_FROM_ALL_OCCURRED"
NO_STATUS_CHANGE = "NO_STATUS_CHANGE"


class Change(StrEnum):
    """What an unsubscribe-all did, as far as HubSpot said."""

    UNSUBSCRIBED = "unsubscribed"
    ALREADY_UNSUBSCRIBED = "already_unsubscribed"
    # HubSpot confirmed the request but did not say whether anything changed (verbose=false).
    ACCEPTED = "accepted"


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    subscription_id: int | None
    status: str | None
    reason: str | None
    business_unit_id: int | None


@dataclass(frozen=True, slots=True)
class UnsubscribeAllResult:
    """One subscriber's successful unsubscribe-all.

    `body` is HubSpot's JSON for it: the whole envelope of a single call, or this subscriber's
    entry of a batch call.
    """

    subscriber: str
    statuses: tuple[SubscriptionStatus, ...]
    body: Mapping[str, Any]

    @property
    def status_entries(self) -> list[Mapping[str, Any]]:
        """HubSpot's per-subscription status objects, from either shape of `body`."""
        entries = self.body.get("results") if "results" in self.body else self.body.get("statuses")
        return [entry for entry in _as_list(entries) if isinstance(entry, Mapping)]

    @property
    def change(self) -> Change:
        reasons = {status.reason for status in self.statuses}
        if UNSUBSCRIBE_OCCURRED in reasons:
            return Change.UNSUBSCRIBED
        if reasons == {NO_STATUS_CHANGE}:
            return Change.ALREADY_UNSUBSCRIBED
        return Change.ACCEPTED


@dataclass(frozen=True, slots=True)
class WideStatus:
    """A subscriber's unsubscribe-all state (portal-wide or for one business unit)."""

    status: str | None
    wide_status_type: str | None
    business_unit_id: int | None
    timestamp: str | None


@dataclass(frozen=True, slots=True)
class UnsubscribeAllStatus:
    subscriber: str
    wide_statuses: tuple[WideStatus, ...]
    body: Mapping[str, Any]

    @property
    def unsubscribed(self) -> bool:
        return any(wide.status == "UNSUBSCRIBED" for wide in self.wide_statuses)


def _as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_subscription_statuses(items: Any) -> tuple[SubscriptionStatus, ...]:
    return tuple(
        SubscriptionStatus(
            subscription_id=_as_int(item.get("subscriptionId")),
            status=_as_str(item.get("status")),
            reason=_as_str(item.get("setStatusSuccessReason")),
            business_unit_id=_as_int(item.get("businessUnitId")),
        )
        for item in _as_list(items)
        if isinstance(item, Mapping)
    )


def parse_unsubscribe_all(subscriber: str, body: Mapping[str, Any]) -> UnsubscribeAllResult:
    return UnsubscribeAllResult(subscriber, parse_subscription_statuses(body.get("results")), body)


def parse_unsubscribe_all_status(subscriber: str, body: Mapping[str, Any]) -> UnsubscribeAllStatus:
    wide_statuses = tuple(
        WideStatus(
            status=_as_str(item.get("status")),
            wide_status_type=_as_str(item.get("wideStatusType")),
            business_unit_id=_as_int(item.get("businessUnitId")),
            timestamp=_as_str(item.get("timestamp")),
        )
        for item in _as_list(body.get("results"))
        if isinstance(item, Mapping)
    )
    return UnsubscribeAllStatus(subscriber, wide_statuses, body)


def batch_results_by_subscriber(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """A batch body's `results` entries keyed by case-folded subscriber (HubSpot may re-case)."""
    entries: dict[str, Mapping[str, Any]] = {}
    for item in _as_list(body.get("results")):
        if isinstance(item, Mapping) and isinstance(item.get("subscriberIdString"), str):
            entries[item["subscriberIdString"].casefold()] = item
    return entries


def subscribers_named_in(error: Mapping[str, Any], candidates: Mapping[str, str]) -> set[str]:
    """Which of `candidates` (case-folded → as sent) an error entry names in any `context` list.

    HubSpot names an input in `context` under keys that vary by endpoint (`ids`,
    `subscriberIdString`, ...), so every context value is searched, at the top level and in
    nested `errors[]`.
    """
    named: set[str] = set()
    contexts = [error.get("context")] + [
        detail.get("context") for detail in _as_list(error.get("errors")) if isinstance(detail, Mapping)
    ]
    for context in contexts:
        if not isinstance(context, Mapping):
            continue
        for values in context.values():
            for value in _as_list(values):
                if isinstance(value, str) and value.casefold() in candidates:
                    named.add(candidates[value.casefold()])
    return named
