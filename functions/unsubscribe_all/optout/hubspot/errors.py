"""What can go wrong talking to HubSpot, as types a caller acts on without reading messages.

Every error carries what HubSpot said (status, category, correlation id, message) and never the
token: messages are HubSpot's own text or ours, and requests are not part of any error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypedDict, Unpack

from optout.masking import mask_emails_in_text
from optout.outcomes import Reason, Rejected, RetryKind, RetryLater, waits_for_daily_reset


class ResponseDetails(TypedDict, total=False):
    """What HubSpot's answer said about an error, when there was an answer."""

    status: int | None
    category: str | None
    correlation_id: str | None
    # HubSpot's whole error body. It can name email addresses, so it is kept out of str/repr.
    body: Mapping[str, Any]
    # A write HubSpot may have carried out although the caller cannot tell (a timeout after the
    # request was sent, a 500/502/504, an answer that did not confirm and a status read that failed).
    may_have_applied: bool


class HubSpotError(Exception):
    """Base of the taxonomy. `retryable` tells whether the same request may succeed later;
    `kind` is a short stable name for logs and metrics; `outcome()` is what the request became."""

    retryable: ClassVar[bool] = True
    kind: ClassVar[str] = RetryKind.TRANSIENT.value

    def __init__(self, message: str, **details: Unpack[ResponseDetails]) -> None:
        super().__init__(message)
        self.message = message
        self.status = details.get("status")
        self.category = details.get("category")
        self.correlation_id = details.get("correlation_id")
        self.body: Mapping[str, Any] = details.get("body") or {}
        self.may_have_applied = details.get("may_have_applied", False)

    def __repr__(self) -> str:
        # HubSpot's message can quote the email address, so the repr leaves it out.
        return f"{type(self).__name__}(status={self.status!r}, category={self.category!r})"

    def outcome(self) -> RetryLater | Rejected:
        """The request's outcome, with HubSpot's message masked."""
        return RetryLater(
            RetryKind(self.kind), mask_emails_in_text(self.message), may_have_applied=self.may_have_applied
        )


class PermanentError(HubSpotError):
    """HubSpot rejected the request itself (400 validation, invalid email): retrying cannot help.

    `batch_wide` marks a batch call HubSpot rejected without naming the offending inputs, so
    each input's own fate is still unknown.
    """

    retryable = False
    kind = "permanent"

    def __init__(self, message: str, *, batch_wide: bool = False, **details: Unpack[ResponseDetails]) -> None:
        super().__init__(message, **details)
        self.batch_wide = batch_wide

    def outcome(self) -> Rejected:
        return Rejected(Reason.HUBSPOT_REJECTED, mask_emails_in_text(self.message), self.category)


class AuthenticationError(HubSpotError):
    """401: the token is wrong, expired or revoked (after one re-read of the token)."""

    kind = RetryKind.AUTHENTICATION.value


class MissingScopesError(HubSpotError):
    """403: the token lacks scopes; `required_scopes` are the ones HubSpot named."""

    kind = RetryKind.MISSING_SCOPES.value

    def __init__(
        self, message: str, *, required_scopes: tuple[str, ...] = (), **details: Unpack[ResponseDetails]
    ) -> None:
        super().__init__(message, **details)
        self.required_scopes = required_scopes


class RateLimitedError(HubSpotError):
    """429. `retry_after_s` is how long to wait; a DAILY limit will not clear for hours."""

    kind = RetryKind.RATE_LIMITED.value

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
        """HubSpot's daily limit, or the function's share of it: neither clears before the reset."""
        return waits_for_daily_reset(self.policy)

    def outcome(self) -> RetryLater:
        return RetryLater(
            RetryKind.RATE_LIMITED, mask_emails_in_text(self.message), self.retry_after_s, self.policy
        )


class TransientError(HubSpotError):
    """423, 477, 5xx, timeouts, connection resets: the same request may well succeed later."""

    kind = RetryKind.TRANSIENT.value

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, **details: Unpack[ResponseDetails]
    ) -> None:
        super().__init__(message, **details)
        self.retry_after_s = retry_after_s

    def outcome(self) -> RetryLater:
        return RetryLater(
            RetryKind.TRANSIENT,
            mask_emails_in_text(self.message),
            self.retry_after_s,
            may_have_applied=self.may_have_applied,
        )


class UnexpectedResponseError(HubSpotError):
    """A status or body this client does not know (a 405 or a 409, say).

    Retryable because the fault is usually configuration, not the request: the message waits
    for the fix instead of being parked as if the address were bad.
    """

    kind = RetryKind.UNEXPECTED_RESPONSE.value


class EndpointNotFoundError(HubSpotError):
    """404 on an unsubscribe-all route: a base URL or API version HubSpot does not serve, or an
    outage of the route. Never the producer's fault, so never parked: it waits for the fix."""

    kind = RetryKind.ENDPOINT_NOT_FOUND.value


class TokenUnavailableError(HubSpotError):
    """The token could not be read (secret store unreachable, secret missing or empty)."""

    kind = RetryKind.TOKEN_UNAVAILABLE.value
