"""Turns HubSpot's non-2xx answers into the error taxonomy (see hubspot-api-notes: Errors)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from optout.hubspot.daily_reset import DailyReset
from optout.hubspot.errors import (
    AuthenticationError,
    EndpointNotFoundError,
    HubSpotError,
    MissingScopesError,
    PermanentError,
    RateLimitedError,
    ResponseDetails,
    TransientError,
    UnexpectedResponseError,
)
from optout.hubspot.rate_limit_headers import RateLimitWindow, interval_seconds, retry_after_seconds
from optout.outcomes import RateLimitPolicy

# HubSpot's "locked" answer clears after about two seconds.
LOCKED_RETRY_AFTER_S = 2.0
# HubSpot's own Node SDK waits this long after a 429 that says nothing else.
DEFAULT_RATE_LIMIT_RETRY_AFTER_S = 10.0
SHORT_RATE_LIMIT_WAIT_S = 1.0
UNKNOWN_FATE_STATUSES = frozenset({500, 502, 504})
_ALREADY_UNSUBSCRIBED = re.compile(r"already\s+(been\s+)?unsubscribed", re.IGNORECASE)
_UTC_RESET = DailyReset()


def rate_limit_wait(headers: Mapping[str, str]) -> float:
    """How long to wait after a 429 without Retry-After, from the rate-limit headers it carries.

    A window with nothing left frees a slot within its interval; a window with calls left means
    the 429 came from another limit, or from a count not updated yet: a short wait finds out.
    Without the headers, HubSpot's own SDK's wait.
    """
    window = RateLimitWindow.from_headers(headers)
    if window is not None:
        return window.interval_s if window.remaining == 0 else SHORT_RATE_LIMIT_WAIT_S
    interval = interval_seconds(headers)
    return interval if interval is not None else DEFAULT_RATE_LIMIT_RETRY_AFTER_S


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


def error_from_response(
    status: int, headers: Mapping[str, str], body: Mapping[str, Any], daily_reset: DailyReset = _UTC_RESET
) -> HubSpotError:
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
        if policy == RateLimitPolicy.DAILY:
            # Not documented to carry Retry-After; the limit clears at the account's midnight.
            wait = daily_reset.seconds_until()
        else:
            wait = retry_after if retry_after is not None else rate_limit_wait(headers)
        return RateLimitedError(text, retry_after_s=wait, policy=policy, **details)
    if status == 404:
        return EndpointNotFoundError(text, **details)
    if status == 423:
        return TransientError(text, retry_after_s=max(retry_after or 0.0, LOCKED_RETRY_AFTER_S), **details)
    if status == 477 or status >= 500:
        # A 503 (and a 477) refuse the call; a 500, 502 or 504 may come after HubSpot did the work.
        details["may_have_applied"] = status in UNKNOWN_FATE_STATUSES
        return TransientError(text, retry_after_s=retry_after, **details)
    return UnexpectedResponseError(text, **details)
