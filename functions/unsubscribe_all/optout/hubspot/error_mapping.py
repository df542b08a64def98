"""Turns HubSpot's non-2xx answers into the error taxonomy (see hubspot-api-notes: Errors)."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

from optout.hubspot.errors import (
    AuthenticationError,
    HubSpotError,
    MissingScopesError,
    PermanentError,
    RateLimitedError,
    ResponseDetails,
    TransientError,
    UnexpectedResponseError,
)

# HubSpot's "locked" answer clears after about two seconds.
LOCKED_RETRY_AFTER_S = 2.0
# A DAILY limit resets at midnight in the account's time zone, which a response does not tell.
DAILY_LIMIT_RETRY_AFTER_S = 3600.0
DEFAULT_RATE_LIMIT_RETRY_AFTER_S = 10.0
_ALREADY_UNSUBSCRIBED = re.compile(r"already\s+(been\s+)?unsubscribed", re.IGNORECASE)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def interval_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    try:
        return int(value) / 1000 if value is not None else None
    except ValueError:
        return None


def is_already_unsubscribed(status: int, body: Mapping[str, Any]) -> bool:
    """Older APIs answered a repeated unsubscribe with a 4xx saying so: that is a success."""
    message = body.get("message")
    return 400 <= status < 500 and isinstance(message, str) and bool(_ALREADY_UNSUBSCRIBED.search(message))


def _required_scopes(body: Mapping[str, Any]) -> tuple[str, ...]:
    scopes: list[str] = []
    contexts = [body.get("context")] + [
        detail.get("context") for detail in body.get("errors") or () if isinstance(detail, Mapping)
    ]
    for context in contexts:
        if isinstance(context, Mapping):
            for key in ("requiredGranularScopes", "requiredScopes", "missingScopes"):
                scopes.extend(scope for scope in context.get(key) or () if isinstance(scope, str))
    return tuple(dict.fromkeys(scopes))


def error_from_response(status: int, headers: Mapping[str, str], body: Mapping[str, Any]) -> HubSpotError:
    message = body.get("message")
    text = message if isinstance(message, str) and message else f"HubSpot answered HTTP {status}"
    category = body.get("category")
    correlation_id = body.get("correlationId")
    details = ResponseDetails(
        status=status,
        category=category if isinstance(category, str) else None,
        correlation_id=correlation_id if isinstance(correlation_id, str) else None,
        body=body,
    )
    retry_after = retry_after_seconds(headers)
    if status == 400:
        return PermanentError(text, **details)
    if status == 401:
        return AuthenticationError(text, **details)
    if status == 403:
        return MissingScopesError(text, required_scopes=_required_scopes(body), **details)
    if status == 429:
        policy = body.get("policyName")
        policy = policy if isinstance(policy, str) else None
        if policy == "DAILY":
            wait = retry_after if retry_after is not None else DAILY_LIMIT_RETRY_AFTER_S
        else:
            wait = next(
                (s for s in (retry_after, interval_seconds(headers)) if s is not None),
                DEFAULT_RATE_LIMIT_RETRY_AFTER_S,
            )
        return RateLimitedError(text, retry_after_s=wait, policy=policy, **details)
    if status == 423:
        return TransientError(text, retry_after_s=max(retry_after or 0.0, LOCKED_RETRY_AFTER_S), **details)
    if status == 477 or status >= 500:
        return TransientError(text, retry_after_s=retry_after, **details)
    return UnexpectedResponseError(text, **details)
