"""What can go wrong talking to HubSpot, as types a caller acts on without reading messages.

Every error carries what HubSpot said (status, category, correlation id, message) and never the
token: messages are HubSpot's own text or ours, and requests are not part of any error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, Unpack


class ResponseDetails(TypedDict, total=False):
    """What HubSpot's answer said about an error, when there was an answer."""

    status: int | None
    category: str | None
    correlation_id: str | None
    # HubSpot's whole error body. It can name email addresses, so it is kept out of str/repr.
    body: Mapping[str, Any]


class HubSpotError(Exception):
    """Base of the taxonomy. `retryable` tells whether the same request may succeed later;
    `kind` is a short stable name for logs, metrics and dead-letter reasons."""

    retryable = False
    kind = "hubspot"

    def __init__(self, message: str, **details: Unpack[ResponseDetails]) -> None:
        super().__init__(message)
        self.message = message
        self.status = details.get("status")
        self.category = details.get("category")
        self.correlation_id = details.get("correlation_id")
        self.body: Mapping[str, Any] = details.get("body") or {}

    def __repr__(self) -> str:
        # HubSpot's message can quote the email address, so the repr leaves it out.
        return f"{type(self).__name__}(status={self.status!r}, category={self.category!r})"


class PermanentError(HubSpotError):
    """HubSpot rejected the request itself (400 validation, invalid email): retrying cannot help.

    `batch_wide` marks a batch call HubSpot rejected without naming the offending inputs, so
    each input's own fate is still unknown.
    """

    kind = "permanent"

    def __init__(self, message: str, *, batch_wide: bool = False, **details: Unpack[ResponseDetails]) -> None:
        super().__init__(message, **details)
        self.batch_wide = batch_wide


class AuthenticationError(HubSpotError):
    """401: the token is wrong, expired or revoked (after one re-read of the token)."""

    retryable = True
    kind = "authentication"


class MissingScopesError(HubSpotError):
    """403: the token lacks scopes; `required_scopes` are the ones HubSpot named."""

    retryable = True
    kind = "missing_scopes"

    def __init__(
        self, message: str, *, required_scopes: tuple[str, ...] = (), **details: Unpack[ResponseDetails]
    ) -> None:
        super().__init__(message, **details)
        self.required_scopes = required_scopes


class RateLimitedError(HubSpotError):
    """429. `retry_after_s` is how long to wait; a DAILY limit will not clear for hours."""

    retryable = True
    kind = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float,
        policy: str | None = None,
        **details: Unpack[ResponseDetails],
    ) -> None:
        super().__init__(message, **details)
        self.retry_after_s = retry_after_s
        self.policy = policy

    @property
    def is_daily(self) -> bool:
        return self.policy == "DAILY"


class TransientError(HubSpotError):
    """423, 477, 5xx, timeouts, connection resets: the same request may well succeed later."""

    retryable = True
    kind = "transient"

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, **details: Unpack[ResponseDetails]
    ) -> None:
        super().__init__(message, **details)
        self.retry_after_s = retry_after_s


class UnexpectedResponseError(HubSpotError):
    """A status or body this client does not know (404 on a wrong base URL or version, say).

    Retryable because the fault is usually configuration, not the request: the message waits
    for the fix instead of being parked as if the address were bad.
    """

    retryable = True
    kind = "unexpected_response"


class TokenUnavailableError(HubSpotError):
    """The token could not be read (secret store unreachable, secret missing or empty)."""

    retryable = True
    kind = "token_unavailable"
