"""Response bodies, shaped as HubSpot's OpenAPI documents declare them.

Which body a call gets (and its top-level `status`) is decided in `operations`; here is only the shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from local.hubspot_sandbox.clock import iso_utc, utc_now
from local.hubspot_sandbox.faults import FaultKind
from local.hubspot_sandbox.opt_outs import SUBSCRIPTION_DEFINITIONS, OptOut
from local.hubspot_sandbox.rate_limit import Policy
from local.hubspot_sandbox.validation import FieldError

Json = dict[str, Any]

SCOPES_LINK = "https://developers.hubspot.com/scopes"
ACCOUNT_ID = 4_242_424  # the sandbox's one HubSpot account (portal), as named in 429 group names
RATE_LIMIT_GROUPS = {
    Policy.TEN_SECONDLY_ROLLING: f"publicapi:private-app-api-calls-ten-secondly:{ACCOUNT_ID}",
    Policy.DAILY: f"publicapi:private-app-api-calls-daily:{ACCOUNT_ID}",
}
# When the other-brand-statuses quirk says another brand's opt-out happened: long before any test.
OTHER_BRAND_OPTED_OUT_AT = "2024-01-02T03:04:05.000Z"
FAULT_ERRORS: dict[FaultKind, tuple[str, str]] = {
    FaultKind.LOCKED: ("LOCKED", "The resource is locked; retry in at least 2 seconds."),
    FaultKind.MIGRATING: ("MIGRATION_IN_PROGRESS", "This account is being migrated; retry later."),
    FaultKind.INTERNAL_ERROR: ("INTERNAL_ERROR", "An internal error occurred."),
    FaultKind.BAD_GATEWAY: ("BAD_GATEWAY", "Bad gateway; pause for a few seconds, then retry."),
    FaultKind.SERVICE_UNAVAILABLE: ("SERVICE_UNAVAILABLE", "HubSpot is temporarily unavailable."),
    FaultKind.GATEWAY_TIMEOUT: ("GATEWAY_TIMEOUT", "Gateway timeout; pause for a few seconds, then retry."),
}


def error_body(message: str, category: str, **optional: Any) -> Json:
    """HubSpot's error shape; `optional` adds errors/context/links/errorType/policyName as given."""
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **optional,
    }


def validation_error(errors: Sequence[FieldError]) -> Json:
    """A 400; when the errors are about subscribers, `context` names them all, as in `errors[].context`."""
    subscribers = [error.subscriber for error in errors if error.subscriber is not None]
    context = {"context": {"subscriberIdString": subscribers}} if subscribers else {}
    return error_body(
        f"Invalid input: {' '.join(error.message for error in errors)}",
        "VALIDATION_ERROR",
        errors=[_error_detail(error) for error in errors],
        **context,
    )


def already_unsubscribed_error(subscriber: str) -> Json:
    """The 400 older HubSpot APIs gave a repeated unsubscribe (the already-unsubscribed-400 quirk)."""
    return error_body(
        f"{subscriber} is already unsubscribed.",
        "VALIDATION_ERROR",
        context={"subscriberIdString": [subscriber]},
    )


def authentication_error() -> Json:
    return error_body(
        "Authentication credentials not found or not valid. Send a valid private app token as "
        "'Authorization: Bearer <token>'.",
        "INVALID_AUTHENTICATION",
    )


def missing_scopes_error(required: Iterable[str]) -> Json:
    return error_body(
        "This app hasn't been granted all required scopes to make this call. "
        f"Read more about required scopes here: {SCOPES_LINK}.",
        "MISSING_SCOPES",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(required)},
            }
        ],
        links={"scopes": SCOPES_LINK},
    )


def rate_limit_error(policy: Policy) -> Json:
    """HubSpot's documented 429 body (`requestId` documented, `groupName` seen with it), plus the
    `category` the OpenAPI documents' Error schema requires of every error."""
    return error_body(
        f"You have reached your {policy.value.lower()} limit.",
        "RATE_LIMITS",
        errorType="RATE_LIMIT",
        policyName=policy.value,
        groupName=RATE_LIMIT_GROUPS[policy],
        requestId=uuid.uuid4().hex,
    )


def fault_error(kind: FaultKind) -> Json:
    if kind is FaultKind.RATE_LIMITED:
        return rate_limit_error(Policy.TEN_SECONDLY_ROLLING)
    category, message = FAULT_ERRORS[kind]
    return error_body(message, category)


def not_found_error(method: str, raw_path: str) -> Json:
    return error_body(f"No operation is served at {method} {raw_path}.", "OBJECT_NOT_FOUND")


def method_not_allowed_error(method: str, allowed: Sequence[str]) -> Json:
    return error_body(f"{method} is not allowed here; use {', '.join(allowed)}.", "METHOD_NOT_ALLOWED")


def batch_input_error(error: FieldError) -> Json:
    """One invalid input of a batch: a `StandardError` in the answer's `errors`."""
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": error.message,
        "context": _subscriber_context(error),
        "errors": [_error_detail(error)],
        "links": {},
    }


def envelope(results: list[Json], started_at: datetime, *, status: str, verbose: bool) -> Json:
    """The result envelope every success shares: the schema's required fields, `requestedAt` when verbose."""
    body: Json = {
        "status": status,
        "results": results,
        "startedAt": iso_utc(started_at),
        "completedAt": iso_utc(utc_now()),
    }
    if verbose:
        body["requestedAt"] = iso_utc(started_at)
    return body


def subscription_statuses(
    subscriber: str, business_unit_id: int, opt_out: OptOut | None, *, reason: str | None
) -> list[Json]:
    """One `PublicStatus` per subscription type; `reason` is the setStatusSuccessReason of a write."""
    statuses = []
    for definition in SUBSCRIPTION_DEFINITIONS:
        status: Json = {
            "subscriberIdString": subscriber,
            "subscriptionId": definition.id,
            "channel": "EMAIL",
            "status": "UNSUBSCRIBED" if opt_out else "NOT_SPECIFIED",
            "source": "Communication Preferences API" if opt_out else "Sandbox default",
            "timestamp": iso_utc(opt_out.at if opt_out else utc_now()),
            "subscriptionName": definition.name,
            "businessUnitId": business_unit_id,
        }
        if reason is not None:
            status["setStatusSuccessReason"] = reason
        statuses.append(status)
    return statuses


def wide_statuses(subscriber: str, opt_out: OptOut | None) -> list[Json]:
    """The `PublicWideStatus` list: one opt-out from all email, or nothing.

    The default brand's opt-out is `PORTAL_WIDE`, another brand's `BUSINESS_UNIT_WIDE`; both name
    their `businessUnitId`.
    """
    if opt_out is None:
        return []
    wide_status_type = "PORTAL_WIDE" if opt_out.business_unit_id == 0 else "BUSINESS_UNIT_WIDE"
    return [_wide_status(subscriber, iso_utc(opt_out.at), wide_status_type, opt_out.business_unit_id)]


def other_brand_status(subscriber: str, business_unit_id: int) -> Json:
    """An opt-out from another brand than the one asked about (the other-brand-statuses quirk)."""
    return _wide_status(subscriber, OTHER_BRAND_OPTED_OUT_AT, "BUSINESS_UNIT_WIDE", business_unit_id)


def _wide_status(subscriber: str, timestamp: str, wide_status_type: str, business_unit_id: int) -> Json:
    return {
        "subscriberIdString": subscriber,
        "channel": "EMAIL",
        "status": "UNSUBSCRIBED",
        "timestamp": timestamp,
        "wideStatusType": wide_status_type,
        "businessUnitId": business_unit_id,
    }


def _error_detail(error: FieldError) -> Json:
    detail: Json = {"message": error.message, "in": error.location}
    if error.subscriber is not None:
        detail["code"] = "INVALID_EMAIL"
        detail["context"] = _subscriber_context(error)
    return detail


def _subscriber_context(error: FieldError) -> dict[str, list[str]]:
    return {} if error.subscriber is None else {"subscriberIdString": [error.subscriber]}
