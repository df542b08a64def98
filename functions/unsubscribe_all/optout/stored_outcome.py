"""What the idempotency store keeps of a successful unsubscribe, and how a replay is answered.

The record must never hold a full email address, so it keeps the outcome, the masked address
and HubSpot's per-subscription statuses without their `subscriberIdString`; a replayed API
request gets HubSpot's envelope rebuilt from that, with the address it asked about.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from optout.hubspot.responses import UnsubscribeAllResult
from optout.masking import mask_email

_STATUS_FIELDS = (
    "subscriptionId",
    "subscriptionName",
    "status",
    "setStatusSuccessReason",
    "businessUnitId",
    "channel",
    "source",
    "legalBasis",
    "legalBasisExplanation",
    "timestamp",
)


def _status_entries(result: UnsubscribeAllResult) -> list[dict[str, Any]]:
    return [
        {field: entry[field] for field in _STATUS_FIELDS if entry.get(field) is not None}
        for entry in result.status_entries
    ]


def stored_outcome(result: UnsubscribeAllResult) -> dict[str, Any]:
    return {
        "outcome": result.change.value,
        "subscriber": mask_email(result.subscriber),
        "statuses": _status_entries(result),
        "completedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def replayed_response_body(stored: Mapping[str, Any], subscriber: str) -> dict[str, Any]:
    """HubSpot's single unsubscribe-all envelope, rebuilt from a stored outcome."""
    completed_at = stored.get("completedAt")
    return {
        "status": "COMPLETE",
        "results": [{**status, "subscriberIdString": subscriber} for status in stored.get("statuses") or ()],
        "startedAt": completed_at,
        "completedAt": completed_at,
    }
