"""An opt-out request as producers send it, checked field by field before anything else runs.

The same object arrives as an SQS message body (bare or inside an SNS/EventBridge envelope) or
an API body: `subscriberIdString` (or its alias `email`), optional `businessUnitId` (integer
≥ 0), `verbose` (bool), `idempotencyKey` (string) and `channel` (only `EMAIL`). Unknown fields
are ignored so producers can add their own. The rules for a business unit id and an idempotency
key live here once, for every trigger and the operator CLI.

Examples:
    >>> parse_unsubscribe_request({"email": "jane@example.com", "businessUnitId": 7})
    UnsubscribeRequest(subscriber='jane@example.com', business_unit_id=7, verbose=False, idempotency_key=None)
    >>> business_unit_id_from_text("²")
    Traceback (most recent call last):
    ...
    optout.domain.request.InvalidRequestError: businessUnitId must be an integer from 0 to 9223372036854775807
    >>> business_unit_id_from_text("9" * 5000)
    Traceback (most recent call last):
    ...
    optout.domain.request.InvalidRequestError: businessUnitId must be an integer from 0 to 9223372036854775807
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optout.domain.addresses import InvalidEmailError, validate_email
from optout.hubspot.subscribers import subscriber_key
from optout.outcomes import Reason
from optout.whole_numbers import whole_number

MAX_BUSINESS_UNIT_ID = 2**63 - 1
MAX_IDEMPOTENCY_KEY_LENGTH = 256
_BUSINESS_UNIT_ID_RULE = f"businessUnitId must be an integer from 0 to {MAX_BUSINESS_UNIT_ID}"

# What HubSpot is asked: (the subscriber as HubSpot tells subscribers apart, businessUnitId).
Target = tuple[str, int | None]


class InvalidRequestError(ValueError):
    """A request that can never succeed. `field` names the offending field, when there is one."""

    def __init__(self, reason: Reason, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class UnsubscribeRequest:
    subscriber: str
    business_unit_id: int | None = None
    verbose: bool = False
    idempotency_key: str | None = None

    @property
    def target(self) -> Target:
        """What HubSpot is asked to do; requests with equal targets need one call between them.

        `verbose` is not part of it: every call asks HubSpot for its detail, and `verbose` only
        shapes the answer the caller gets.
        """
        return (subscriber_key(self.subscriber), self.business_unit_id)

    def fingerprint(self) -> str:
        """A digest of what is asked (not who asked), to catch a key reused for another request.

        Its shape is the one records already stored were written with; only the address rule is
        HubSpot's `lower()` now, so two subscribers that a fold would make equal stay apart.
        """
        asked = (subscriber_key(self.subscriber), self.business_unit_id, self.verbose)
        return hashlib.sha256(json.dumps(asked).encode()).hexdigest()


def _optional_bool(data: Mapping[str, Any], field: str) -> bool:
    value = data.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequestError(Reason.INVALID_FIELD, f"{field} must be true or false", field)
    return value


def business_unit_id_from_json(value: object) -> int | None:
    """A JSON `businessUnitId` (absent or null: none)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BUSINESS_UNIT_ID:
        raise InvalidRequestError(Reason.INVALID_FIELD, _BUSINESS_UNIT_ID_RULE, "businessUnitId")
    return value


def business_unit_id_from_text(text: str) -> int:
    """A `businessUnitId` written as text (a query string, a command line): ASCII digits only."""
    number = whole_number(text, maximum=MAX_BUSINESS_UNIT_ID)
    if number is None:
        raise InvalidRequestError(Reason.INVALID_FIELD, _BUSINESS_UNIT_ID_RULE, "businessUnitId")
    return number


def idempotency_key_from(value: object, where: str = "idempotencyKey") -> str | None:
    """A producer's idempotency key (absent or null: none): 1 to 256 printable characters."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_IDEMPOTENCY_KEY_LENGTH
        or not value.isprintable()
    ):
        raise InvalidRequestError(
            Reason.INVALID_FIELD,
            f"{where} must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters, not all blank",
            where,
        )
    return value


def _subscriber(data: Mapping[str, Any]) -> str:
    given = {field: data[field] for field in ("subscriberIdString", "email") if data.get(field) is not None}
    if not given:
        raise InvalidRequestError(
            Reason.MISSING_SUBSCRIBER, "subscriberIdString (or email) is required", "subscriberIdString"
        )
    field, value = next(iter(given.items()))
    if len(set(map(repr, given.values()))) > 1:
        raise InvalidRequestError(
            Reason.INVALID_FIELD,
            "subscriberIdString and email are both given and differ",
            "subscriberIdString",
        )
    if not isinstance(value, str):
        raise InvalidRequestError(Reason.INVALID_FIELD, f"{field} must be a string", field)
    try:
        return validate_email(value)
    except InvalidEmailError as error:
        raise InvalidRequestError(
            Reason.INVALID_EMAIL, f"{field} is not a valid email address: {error}", field
        ) from None


def parse_unsubscribe_request(data: object) -> UnsubscribeRequest:
    """Checks a decoded JSON value; raises InvalidRequestError with the first problem found."""
    if not isinstance(data, Mapping):
        raise InvalidRequestError(Reason.NOT_AN_OBJECT, "the request must be a JSON object")
    channel = data.get("channel")
    if channel is not None and channel != "EMAIL":
        raise InvalidRequestError(Reason.UNSUPPORTED_CHANNEL, "channel must be EMAIL", "channel")
    return UnsubscribeRequest(
        subscriber=_subscriber(data),
        business_unit_id=business_unit_id_from_json(data.get("businessUnitId")),
        verbose=_optional_bool(data, "verbose"),
        idempotency_key=idempotency_key_from(data.get("idempotencyKey")),
    )
