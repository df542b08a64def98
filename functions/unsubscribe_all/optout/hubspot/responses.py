"""HubSpot's answers, read leniently but believed only when they say what was asked.

HubSpot's bodies drift from the published schema (a top-level `status` of `SUCCESS`, missing
timestamps, `null` reasons), so nothing here insists on a field it does not need. What it does not
do is take a 2xx for an unsubscribe: only an answer whose `status` is `COMPLETE` (or `SUCCESS`, as
HubSpot's guide shows), with no `errors` for the input and the input named in `results`, confirms
one. Anything else (`PENDING`, `CANCELED`, `results: []`, an input named nowhere) is left for the
client to confirm with a status read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optout.hubspot.errors import HubSpotError, PermanentError, TransientError
from optout.hubspot.subscribers import subscriber_key
from optout.outcomes import Change, Unsubscribed

UNSUBSCRIBE_OCCURRED = "UNSUBSCRIBE_FROM_ALL_OCCURRED"
NO_STATUS_CHANGE = "NO_STATUS_CHANGE"
# `COMPLETE` is the schema's; `SUCCESS` is what HubSpot's own guide shows.
CONFIRMING_STATES = frozenset({"COMPLETE", "SUCCESS"})
DEFAULT_BUSINESS_UNIT_ID = 0


@dataclass(frozen=True, slots=True)
class WideStatus:
    """A subscriber's unsubscribe-all state, portal-wide or for one business unit (brand)."""

    status: str | None
    wide_status_type: str | None
    business_unit_id: int | None
    timestamp: str | None

    def holds_opt_out_for(self, business_unit_id: int | None) -> bool:
        """Whether this status opts the subscriber out of all email of that business unit."""
        if self.status != "UNSUBSCRIBED":
            return False
        if self.wide_status_type == "PORTAL_WIDE":
            return True
        wanted = DEFAULT_BUSINESS_UNIT_ID if business_unit_id is None else business_unit_id
        return self.business_unit_id == wanted


@dataclass(frozen=True, slots=True)
class UnsubscribeAllStatus:
    subscriber: str
    wide_statuses: tuple[WideStatus, ...]
    body: Mapping[str, Any]

    def unsubscribed_for(self, business_unit_id: int | None) -> bool:
        """Opted out of all email of that business unit, or portal-wide; never by another brand's status."""
        return any(wide.holds_opt_out_for(business_unit_id) for wide in self.wide_statuses)


def _as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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


def confirms(body: Mapping[str, Any]) -> bool:
    """Whether a 2xx answer's top level says the operation is done."""
    return body.get("status") in CONFIRMING_STATES and not _as_list(body.get("errors"))


def parse_unsubscribe_all(subscriber: str, body: Mapping[str, Any]) -> Unsubscribed | None:
    """A single call's answer, or None when it does not confirm the unsubscribe."""
    statuses = status_objects(body.get("results"))
    if not confirms(body) or not statuses:
        return None
    return Unsubscribed(subscriber, change_of(statuses), statuses, body)


def already_unsubscribed(subscriber: str) -> Unsubscribed:
    """HubSpot held the opt-out before (its "already unsubscribed" refusal)."""
    return Unsubscribed(subscriber, Change.ALREADY_UNSUBSCRIBED)


def confirmed_by_status(subscriber: str) -> Unsubscribed:
    """A status read shows the opt-out; whether this request made it, HubSpot did not say."""
    return Unsubscribed(subscriber, Change.ACCEPTED)


def _wide_statuses(items: Any) -> tuple[WideStatus, ...]:
    return tuple(
        WideStatus(
            status=_as_str(item.get("status")),
            wide_status_type=_as_str(item.get("wideStatusType")),
            business_unit_id=_as_int(item.get("businessUnitId")),
            timestamp=_as_str(item.get("timestamp")),
        )
        for item in _as_list(items)
        if isinstance(item, Mapping)
    )


def parse_unsubscribe_all_status(subscriber: str, body: Mapping[str, Any]) -> UnsubscribeAllStatus:
    return UnsubscribeAllStatus(subscriber, _wide_statuses(body.get("results")), body)


def parse_batch_status_read(
    subscribers: Sequence[str], body: Mapping[str, Any]
) -> dict[str, UnsubscribeAllStatus]:
    """The batch status read's answer for each subscriber it names (matched as HubSpot matches)."""
    by_key = {subscriber_key(subscriber): subscriber for subscriber in subscribers}
    statuses: dict[str, UnsubscribeAllStatus] = {}
    for item in _as_list(body.get("results")):
        named = item.get("subscriberIdString") if isinstance(item, Mapping) else None
        subscriber = by_key.get(subscriber_key(named)) if isinstance(named, str) else None
        if subscriber is not None:
            statuses[subscriber] = UnsubscribeAllStatus(
                subscriber, _wide_statuses(item.get("wideStatuses")), item
            )
    return statuses


@dataclass
class BatchReading:
    """One batch unsubscribe-all answer, input by input (inputs exactly as sent)."""

    done: dict[str, Unsubscribed]
    failed: dict[str, HubSpotError]
    # Named in neither `results` nor `errors`, or named under a top-level status that does not
    # confirm: HubSpot may or may not have applied these.
    unconfirmed: list[str]


def read_batch_answer(chunk: Sequence[str], body: Mapping[str, Any]) -> BatchReading:
    by_key = {subscriber_key(subscriber): subscriber for subscriber in chunk}
    results: dict[str, Mapping[str, Any]] = {}
    for item in _as_list(body.get("results")):
        named = item.get("subscriberIdString") if isinstance(item, Mapping) else None
        if isinstance(named, str) and subscriber_key(named) in by_key:
            results[by_key[subscriber_key(named)]] = item
    failed: dict[str, HubSpotError] = {}
    for entry in _as_list(body.get("errors")):
        if not isinstance(entry, Mapping):
            continue
        message = str(entry.get("message") or "HubSpot reported an error for this input")
        category = entry.get("category") if isinstance(entry.get("category"), str) else None
        permanent = category == "VALIDATION_ERROR" or str(entry.get("status", "")).startswith("4")
        for subscriber in subscribers_named_in(entry, by_key):
            if subscriber not in results:
                error_type = PermanentError if permanent else TransientError
                failed[subscriber] = error_type(message, category=category)
    trusted = body.get("status") in CONFIRMING_STATES
    done: dict[str, Unsubscribed] = {}
    unconfirmed: list[str] = []
    for subscriber in chunk:
        if subscriber in results and trusted:
            statuses = status_objects(results[subscriber].get("statuses"))
            done[subscriber] = Unsubscribed(subscriber, change_of(statuses), statuses)
        elif subscriber not in failed:
            unconfirmed.append(subscriber)
    return BatchReading(done, failed, unconfirmed)


def subscribers_named_in(error: Mapping[str, Any], candidates: Mapping[str, str]) -> set[str]:
    """Which of `candidates` (subscriber key → as sent) an error entry names in any `context` list.

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
                if isinstance(value, str) and subscriber_key(value) in candidates:
                    named.add(candidates[subscriber_key(value)])
    return named
