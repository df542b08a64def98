"""One log line and the metrics for each request's result, the same for both triggers."""

from __future__ import annotations

from optout.hubspot.responses import Change
from optout.masking import mask_email
from optout.observability import MetricsRecorder, logger
from optout.unsubscribe_service import ItemResult, RetryLater, Succeeded


def report(
    metrics: MetricsRecorder, result: ItemResult, *, correlation_id: str, subscriber: str | None
) -> None:
    masked = mask_email(subscriber) if subscriber is not None else None
    if isinstance(result, Succeeded):
        outcome = result.stored.get("outcome")
        if result.replayed:
            metrics.count("IdempotentReplays")
        elif outcome == Change.ALREADY_UNSUBSCRIBED:
            metrics.count("AlreadyUnsubscribed")
        else:
            metrics.count("Unsubscribed")
        logger.info(
            "unsubscribed",
            correlation_id=correlation_id,
            subscriber=masked,
            outcome=outcome,
            replayed=result.replayed,
        )
    elif isinstance(result, RetryLater):
        if result.kind == "rate_limited":
            metrics.count_by("RateLimited", "policy", result.policy or "UNKNOWN")
        else:
            metrics.count("TransientFailures")
        logger.warning(
            "will retry",
            correlation_id=correlation_id,
            subscriber=masked,
            failure=result.kind,
            detail=result.message,
            retry_after_s=result.retry_after_s,
        )
    else:
        metrics.count("PermanentFailures")
        logger.warning(
            "rejected",
            correlation_id=correlation_id,
            subscriber=masked,
            reason=result.reason,
            detail=result.message,
        )
