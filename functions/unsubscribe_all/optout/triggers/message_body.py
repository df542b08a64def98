"""From an SQS message body to an UnsubscribeRequest, through SNS and EventBridge envelopes.

SNS topics (without raw delivery) wrap the request as `{"Type": "Notification", "Message":
"<json>"}`, EventBridge rules as `{"detail-type": ..., "source": ..., "detail": {...}}`; a rule
can feed a topic that feeds the queue, so envelopes may nest a few levels, but no deeper.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optout.domain.request import InvalidRequestError, UnsubscribeRequest, parse_unsubscribe_request
from optout.outcomes import Reason
from optout.triggers.strict_json import decode_json

MAX_ENVELOPES = 3


def _is_sns_notification(value: Mapping[str, Any]) -> bool:
    return value.get("Type") == "Notification" and isinstance(value.get("Message"), str)


def _is_eventbridge_event(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("detail"), Mapping) and "detail-type" in value and "source" in value


def unwrap(value: Any) -> Any:
    """The request object inside any SNS/EventBridge envelopes."""
    for _ in range(MAX_ENVELOPES + 1):
        if not isinstance(value, Mapping):
            return value
        if _is_sns_notification(value):
            value = decode_json(value["Message"])
        elif _is_eventbridge_event(value):
            value = value["detail"]
        else:
            return value
    raise InvalidRequestError(Reason.ENVELOPE_TOO_DEEP, f"more than {MAX_ENVELOPES} nested envelopes")


def parse_message_body(body: str) -> UnsubscribeRequest:
    return parse_unsubscribe_request(unwrap(decode_json(body)))
