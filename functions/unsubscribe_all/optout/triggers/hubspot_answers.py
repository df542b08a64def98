"""HubSpot's answer bodies, as the facade and `POST /unsubscribe-all` give them back to callers.

The function always asks HubSpot for its detail (`verbose=true`); each caller gets the answer its
own `verbose` asks for: HubSpot's status objects with it, HubSpot's terse envelope (`results: []`)
without. Every body carries each field HubSpot's schema requires (`status`, `results`,
`startedAt`, `completedAt`), whatever HubSpot's own answer lacked; the batch call answers 200 with
per-input `errors`/`numErrors` inside, as HubSpot's contract for it says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optout.hubspot.responses import UnsubscribeAllStatus
from optout.outcomes import Rejected, RetryLater, Unsubscribed


def _envelope(results: list[Any], answer: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    answer = answer or {}
    started, completed = answer.get("startedAt"), answer.get("completedAt")
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started if isinstance(started, str) else now,
        "completedAt": completed if isinstance(completed, str) else now,
    }
    if isinstance(answer.get("requestedAt"), str):
        body["requestedAt"] = answer["requestedAt"]
    return body


def single_answer(done: Unsubscribed, *, verbose: bool) -> dict[str, Any]:
    """HubSpot's single unsubscribe-all envelope (`ActionResponseWithResultsPublicStatus`)."""
    results = (
        [{**status, "subscriberIdString": done.subscriber} for status in done.statuses] if verbose else []
    )
    return _envelope(results, done.answer, done.completed_at)


def status_answer(status: UnsubscribeAllStatus, *, verbose: bool, now: str) -> dict[str, Any]:
    """HubSpot's unsubscribe-all status envelope (`ActionResponseWithResultsPublicWideStatus`)."""
    results = status.body.get("results") if verbose else []
    return _envelope(list(results) if isinstance(results, list) else [], status.body, now)


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
    *,
    verbose: bool,
    now: str,
) -> dict[str, Any]:
    """HubSpot's batch unsubscribe-all body (`BatchResponsePublicBulkOptOutFromAllResponse`)."""
    errors = list(invalid)
    for subscriber, outcome in failed:
        if isinstance(outcome, Rejected):
            category = outcome.category or outcome.reason.value
        else:
            category = outcome.kind.value.upper()
        errors.append(batch_error(category, outcome.message, subscriber))
    results = (
        [{"subscriberIdString": item.subscriber, "statuses": list(item.statuses)} for item in done]
        if verbose
        else []
    )
    body = _envelope(results, None, now)
    if errors:
        body |= {"errors": errors, "numErrors": len(errors)}
    return body
