"""An opt-out request as producers send it, checked field by field before anything else runs.

The same object arrives as an SQS message body (bare or inside an SNS/EventBridge envelope) or
an API body: `subscriberIdString` (or its alias `email`), optional `businessUnitId` (integer
≥ 0), `verbose` (bool), `idempotencyKey` (string) and `channel` (only `EMAIL`). Unknown fields
are ignored so producers can add their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from optout.email_address import InvalidEmailError, validate_email

MAX_BUSINESS_UNIT_ID = 2**63 - 1
MAX_IDEMPOTENCY_KEY_LENGTH = 256


class Reason(StrEnum):
    """Why a request can never succeed; the dead-letter queue's `reason` attribute."""

    MALFORMED_JSON = "MALFORMED_JSON"
    NOT_AN_OBJECT = "NOT_AN_OBJECT"
    DUPLICATE_KEY = "DUPLICATE_KEY"
    TOO_LARGE = "TOO_LARGE"
    ENVELOPE_TOO_DEEP = "ENVELOPE_TOO_DEEP"
    MISSING_SUBSCRIBER = "MISSING_SUBSCRIBER"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_FIELD = "INVALID_FIELD"
    UNSUPPORTED_CHANNEL = "UNSUPPORTED_CHANNEL"
    HUBSPOT_REJECTED = "HUBSPOT_REJECTED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


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
    def target(self) -> tuple[str, int | None, bool]:
        """What HubSpot is asked to do; requests with equal targets need one call between them."""
        return (self.subscriber.casefold(), self.business_unit_id, self.verbose)

    def fingerprint(self) -> str:
        """A digest of what is asked (not who asked), to catch a key reused for another request."""
        return hashlib.sha256(json.dumps(self.target).encode()).hexdigest()


def _optional_bool(data: Mapping[str, Any], field: str) -> bool:
    value = data.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequestError(Reason.INVALID_FIELD, f"{field} must be true or false", field)
    return value


def _business_unit_id(data: Mapping[str, Any]) -> int | None:
    value = data.get("businessUnitId")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(Reason.INVALID_FIELD, "businessUnitId must be an integer", "businessUnitId")
    if not 0 <= value <= MAX_BUSINESS_UNIT_ID:
        raise InvalidRequestError(
            Reason.INVALID_FIELD,
            f"businessUnitId must be between 0 and {MAX_BUSINESS_UNIT_ID}",
            "businessUnitId",
        )
    return value


def _idempotency_key(data: Mapping[str, Any]) -> str | None:
    value = data.get("idempotencyKey")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidRequestError(
            Reason.INVALID_FIELD,
            f"idempotencyKey must be a non-blank string of at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            "idempotencyKey",
        )
    if not value.isprintable():
        raise InvalidRequestError(
            Reason.INVALID_FIELD, "idempotencyKey must not contain control characters", "idempotencyKey"
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
        business_unit_id=_business_unit_id(data),
        verbose=_optional_bool(data, "verbose"),
        idempotency_key=_idempotency_key(data),
    )
