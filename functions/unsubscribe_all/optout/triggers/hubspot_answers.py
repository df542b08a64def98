"""HubSpot's answer bodies, as the facade and `POST /unsubscribe-all` give them back to callers.

A fresh single call's answer is HubSpot's own, passed on; a replay (or an outcome HubSpot gave no
envelope for) gets HubSpot's envelope rebuilt from the outcome's statuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optout.outcomes import Rejected, RetryLater, Unsubscribed


def single_answer(done: Unsubscribed) -> dict[str, Any]:
    """HubSpot's single unsubscribe-all envelope for an outcome."""
    if done.answer is not None:
        return dict(done.answer)
    return {
        "status": "COMPLETE",
        "results": [{**status, "subscriberIdString": done.subscriber} for status in done.statuses],
        "startedAt": done.completed_at,
        "completedAt": done.completed_at,
    }


def batch_error(category: str, message: str, subscriber: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"subscriberIdString": [subscriber]},
        "errors": [],
        "links": {},
    }


def batch_answer(
    done: Sequence[Unsubscribed],
    failed: Sequence[tuple[str, RetryLater | Rejected]],
    invalid: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """HubSpot's batch unsubscribe-all body: results, and per-input errors when some failed."""
    errors = list(invalid)
    for subscriber, outcome in failed:
        if isinstance(outcome, Rejected):
            category = outcome.category or outcome.reason.value
        else:
            category = outcome.kind.value.upper()
        errors.append(batch_error(category, outcome.message, subscriber))
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": [
            {"subscriberIdString": item.subscriber, "statuses": list(item.statuses)} for item in done
        ],
    }
    if errors:
        body |= {"errors": errors, "numErrors": len(errors)}
    return body
