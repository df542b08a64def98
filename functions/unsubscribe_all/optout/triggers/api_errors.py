"""HTTP answers in HubSpot's own error shape, so clients of this API parse one format."""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from optout.domain.request import InvalidRequestError
from optout.outcomes import Reason, Rejected, RetryKind, RetryLater


@dataclass(frozen=True)
class ApiError(Exception):
    """An HTTP error answer: raised anywhere in a route, turned into a response in one place."""

    status: int
    category: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def invalid(cls, message: str, where: str | None = None) -> ApiError:
        detail: dict[str, Any] = {"message": message}
        if where is not None:
            detail["in"] = where
        return cls(HTTPStatus.BAD_REQUEST, "VALIDATION_ERROR", message, [detail])

    @classmethod
    def from_invalid_request(cls, error: InvalidRequestError) -> ApiError:
        return cls.invalid(error.message, error.field)

    def response(self, correlation_id: str) -> Response[Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.errors:
            body["errors"] = self.errors
        return Response(self.status, content_types.APPLICATION_JSON, body, dict(self.headers))


def _retry_after(seconds: float | None, default: int) -> dict[str, str]:
    return {"Retry-After": str(max(1, round(seconds if seconds is not None else default)))}


def error_for_retry(outcome: RetryLater) -> ApiError:
    """What an API caller is told when the request may succeed later."""
    if outcome.kind is RetryKind.RATE_LIMITED:
        return ApiError(
            HTTPStatus.TOO_MANY_REQUESTS,
            "RATE_LIMITS",
            "HubSpot's rate limit is reached; retry after the time in Retry-After",
            headers=_retry_after(outcome.retry_after_s, 10),
        )
    if outcome.kind is RetryKind.TOKEN_UNAVAILABLE:
        return ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE, "TOKEN_UNAVAILABLE", "the HubSpot token cannot be read now"
        )
    if outcome.kind is RetryKind.IDEMPOTENCY_STORE:
        return ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE, "STORE_UNAVAILABLE", "the idempotency store is unavailable"
        )
    if outcome.kind is RetryKind.IN_PROGRESS:
        return ApiError(
            HTTPStatus.CONFLICT,
            "IN_PROGRESS",
            "a request with this idempotency key is being processed now",
            headers=_retry_after(outcome.retry_after_s, 5),
        )
    return ApiError(
        HTTPStatus.BAD_GATEWAY, "UPSTREAM_ERROR", f"HubSpot failed after retries ({outcome.kind.value})"
    )


def error_for_rejection(outcome: Rejected) -> ApiError:
    if outcome.reason is Reason.IDEMPOTENCY_KEY_REUSED:
        return ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED", outcome.message)
    return ApiError.invalid(outcome.message)
