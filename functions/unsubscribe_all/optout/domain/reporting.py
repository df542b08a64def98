"""One log line and the metrics for each request's outcome, the same for every route."""

from __future__ import annotations

from optout.masking import mask_email
from optout.observability import MetricsRecorder, logger
from optout.outcomes import Change, Outcome, RetryKind, RetryLater, Unsubscribed, waits_for_daily_reset


def report(
    metrics: MetricsRecorder, outcome: Outcome, *, correlation_id: str, subscriber: str | None
) -> None:
    masked = mask_email(subscriber) if subscriber is not None else None
    if isinstance(outcome, Unsubscribed):
        if outcome.replayed:
            metrics.count("IdempotentReplays")
        elif outcome.change is Change.ALREADY_UNSUBSCRIBED:
            metrics.count("AlreadyUnsubscribed")
        else:
            metrics.count("Unsubscribed")
        logger.info(
            "unsubscribed",
            correlation_id=correlation_id,
            subscriber=masked,
            outcome=outcome.change.value,
            replayed=outcome.replayed,
        )
    elif isinstance(outcome, RetryLater):
        if outcome.kind is RetryKind.RATE_LIMITED:
            metrics.count_by("RateLimited", "policy", outcome.policy or "UNKNOWN")
            if waits_for_daily_reset(outcome.policy):
                metrics.count("DailyLimitReached")
        else:
            metrics.count("TransientFailures")
        if outcome.kind is RetryKind.ENDPOINT_NOT_FOUND:
            # A base URL or API version HubSpot does not serve: configuration, never the producer.
            metrics.count("HubSpotEndpointNotFound")
        logger.warning(
            "will retry",
            correlation_id=correlation_id,
            subscriber=masked,
            failure=outcome.kind.value,
            detail=outcome.message,
            retry_after_s=outcome.retry_after_s,
        )
    else:
        metrics.count("PermanentFailures")
        logger.warning(
            "rejected",
            correlation_id=correlation_id,
            subscriber=masked,
            reason=outcome.reason.value,
            detail=outcome.message,
        )
