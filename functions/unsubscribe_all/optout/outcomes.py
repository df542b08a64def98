"""The one vocabulary for what became of a request, from the HubSpot client up to the triggers.

Every request ends as exactly one of three outcomes, so none is ever dropped:
- `Unsubscribed`: HubSpot holds the opt-out, confirmed now or earlier (`replayed` from the store);
- `RetryLater`: it may succeed later; `kind` says why (a rate limit, an outage, a duplicate at work);
- `Rejected`: it can never succeed; `reason` says why (the dead-letter queue's `reason` attribute).

An `Unsubscribed` is also what the idempotency store keeps, as a record without the address.

Examples:
    >>> done = Unsubscribed("jane@example.com", Change.UNSUBSCRIBED)
    >>> Unsubscribed.from_record(done.to_record(), "jane@example.com").replayed
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from optout.masking import mask_email


class Change(StrEnum):
    """What an unsubscribe-all did, as far as HubSpot said."""

    UNSUBSCRIBED = "unsubscribed"
    ALREADY_UNSUBSCRIBED = "already_unsubscribed"
    # HubSpot confirmed the request but did not say whether anything changed (verbose=false).
    ACCEPTED = "accepted"


class Reason(StrEnum):
    """Why a request can never succeed; the dead-letter queue's `reason` attribute."""

    MALFORMED_JSON = "MALFORMED_JSON"
    NOT_AN_OBJECT = "NOT_AN_OBJECT"
    DUPLICATE_KEY = "DUPLICATE_KEY"
    TOO_LARGE = "TOO_LARGE"
    TOO_COMPLEX = "TOO_COMPLEX"
    ENVELOPE_TOO_DEEP = "ENVELOPE_TOO_DEEP"
    MISSING_SUBSCRIBER = "MISSING_SUBSCRIBER"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_FIELD = "INVALID_FIELD"
    UNSUPPORTED_CHANNEL = "UNSUPPORTED_CHANNEL"
    HUBSPOT_REJECTED = "HUBSPOT_REJECTED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"

    @property
    def is_producers_fault(self) -> bool:
        """The message was never a valid request (as opposed to refused by HubSpot or the store)."""
        return self not in {Reason.HUBSPOT_REJECTED, Reason.IDEMPOTENCY_KEY_REUSED}


class RetryKind(StrEnum):
    """Why a request may succeed later; a stable name in logs, metrics and API errors."""

    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    AUTHENTICATION = "authentication"
    MISSING_SCOPES = "missing_scopes"
    TOKEN_UNAVAILABLE = "token_unavailable"  # noqa: S105 - a name, not a password
    UNEXPECTED_RESPONSE = "unexpected_response"
    ENDPOINT_NOT_FOUND = "endpoint_not_found"
    IN_PROGRESS = "in_progress"
    IDEMPOTENCY_STORE = "idempotency_store"
    DEAD_LETTER_QUEUE = "dead_letter_queue"
    OUT_OF_TIME = "out_of_time"  # the invocation's time ran out before the request was reached
    INTERNAL = "internal"


class RateLimitPolicy(StrEnum):
    """Why a call had to wait: HubSpot's policy names on a 429, and the function's own pacing."""

    TEN_SECONDLY_ROLLING = "TEN_SECONDLY_ROLLING"
    DAILY = "DAILY"
    # The function's share of the account's day is used up (HUBSPOT_DAILY_SHARE_PERCENT).
    DAILY_SHARE = "DAILY_SHARE"
    # The function's share of the rolling window is used up for now.
    CLIENT_PACING = "CLIENT_PACING"


def waits_for_daily_reset(policy: str | None) -> bool:
    """A policy only the daily reset (midnight in the account's time zone) clears."""
    return policy in {RateLimitPolicy.DAILY, RateLimitPolicy.DAILY_SHARE}


# HubSpot's per-subscription status fields a record keeps (never `subscriberIdString`).
_RECORDED_STATUS_FIELDS = (
    "subscriptionId",
    "subscriptionName",
    "status",
    "setStatusSuccessReason",
    "businessUnitId",
    "channel",
    "source",
    "legalBasis",
    "legalBasisExplanation",
    "timestamp",
)


def timestamp_now() -> str:
    """Now, as HubSpot writes times: ISO 8601 in UTC with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    """HubSpot holds `subscriber`'s opt-out from all email.

    `statuses` are HubSpot's per-subscription status objects; `answer` is HubSpot's whole answer
    to a single call, to pass on unchanged (None for a batch entry or a replay).
    """

    subscriber: str
    change: Change
    statuses: tuple[Mapping[str, Any], ...] = ()
    answer: Mapping[str, Any] | None = None
    replayed: bool = False
    completed_at: str = field(default_factory=timestamp_now)

    def to_record(self) -> dict[str, Any]:
        """What the idempotency store keeps: no full address, only HubSpot's status fields."""
        return {
            "outcome": self.change.value,
            "subscriber": mask_email(self.subscriber),
            "statuses": [
                {name: status[name] for name in _RECORDED_STATUS_FIELDS if status.get(name) is not None}
                for status in self.statuses
            ],
            "completedAt": self.completed_at,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], subscriber: str) -> Unsubscribed:
        """A replay of a stored record, for the subscriber the new request names."""
        statuses = record.get("statuses")
        outcome = record.get("outcome")
        change = Change(outcome) if outcome in set(Change) else Change.ACCEPTED
        return cls(
            subscriber,
            change,
            tuple(status for status in statuses or () if isinstance(status, Mapping)),
            replayed=True,
            completed_at=str(record.get("completedAt") or timestamp_now()),
        )


@dataclass(frozen=True, slots=True)
class RetryLater:
    """It may succeed later; `retry_after_s` when the wait is known, `policy` for a rate limit.

    `may_have_applied`: HubSpot may have carried the write out without anyone being able to tell;
    the next attempt must read HubSpot's status before writing again.
    """

    kind: RetryKind
    message: str
    retry_after_s: float | None = None
    policy: str | None = None
    may_have_applied: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    """It can never succeed; `category` is HubSpot's error category when HubSpot refused it."""

    reason: Reason
    message: str
    category: str | None = None


Outcome = Unsubscribed | RetryLater | Rejected
