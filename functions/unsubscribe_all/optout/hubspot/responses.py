"""HubSpot's answers turned into small typed results, read leniently.

HubSpot's bodies drift from the published schema (a top-level `status` of `SUCCESS`, missing
timestamps, `null` reasons, empty `results` when `verbose=false`), so nothing here insists on a
field it does not need, and the whole body is kept for callers that pass it on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optout.outcomes import Change, Unsubscribed

UNSUBSCRIBE_OCCURRED = "UNSUBSCRIBE_FROM_ALL_OCCURRED"
NO_STATUS_CHANGE = "NO_STATUS_CHANGE"


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


def status_objects(items: Any) -> tuple[Mapping[str, Any], ...]:
    """HubSpot's per-subscription status objects, whatever else the list holds."""
    return tuple(item for item in _as_list(items) if isinstance(item, Mapping))


def change_of(statuses: Sequence[Mapping[str, Any]]) -> Change:
    reasons = {status.get("setStatusSuccessReason") for status in statuses}
    if UNSUBSCRIBE_OCCURRED in reasons:
        return Change.UNSUBSCRIBED
    if reasons == {NO_STATUS_CHANGE}:
        return Change.ALREADY_UNSUBSCRIBED
    return Change.ACCEPTED


def unsubscribed_from_statuses(
    subscriber: str, items: Any, answer: Mapping[str, Any] | None = None
) -> Unsubscribed:
    statuses = status_objects(items)
    return Unsubscribed(subscriber, change_of(statuses), statuses, answer)


def parse_unsubscribe_all(subscriber: str, body: Mapping[str, Any]) -> Unsubscribed:
    """A single call's answer: the whole envelope is kept, to pass on."""
    return unsubscribed_from_statuses(subscriber, body.get("results"), body)


def already_unsubscribed(
    subscriber: str, business_unit_id: int | None, answer: Mapping[str, Any] | None = None
) -> Unsubscribed:
    """HubSpot held the opt-out before (its "already unsubscribed" refusal, or a status read)."""
    status: dict[str, Any] = {"status": "UNSUBSCRIBED", "setStatusSuccessReason": NO_STATUS_CHANGE}
    if business_unit_id is not None:
        status["businessUnitId"] = business_unit_id
    return Unsubscribed(subscriber, Change.ALREADY_UNSUBSCRIBED, (status,), answer)


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
