"""From an SQS message body to an UnsubscribeRequest, through SNS and EventBridge envelopes.

SNS topics (without raw delivery) wrap the request as `{"Type": "Notification", "MessageId":
..., "Message": "<json>"}`, EventBridge rules as `{"id": ..., "detail-type": ..., "source": ...,
"detail": {...}}`; a rule can feed a topic that feeds the queue, so envelopes may nest a few
levels, but no deeper.

An envelope's id says which delivery this is: SNS keeps a notification's `MessageId` when it
delivers it again, EventBridge an event's `id`. Each hop further out wraps a redelivery in a new
envelope with a new id (a rule retrying into a topic makes a new notification), so the
innermost id is the one every redelivery keeps: `delivery_id` is that one, when it is shaped as
SNS and EventBridge write their ids (a UUID).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optout.domain.request import InvalidRequestError, UnsubscribeRequest, parse_unsubscribe_request
from optout.outcomes import Reason
from optout.triggers.strict_json import decode_json

MAX_ENVELOPES = 3
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """A request read from a message body; `delivery_id` is its innermost envelope's id, if any."""

    request: UnsubscribeRequest
    delivery_id: str | None = None


def _is_sns_notification(value: Mapping[str, Any]) -> bool:
    return value.get("Type") == "Notification" and isinstance(value.get("Message"), str)


def _is_eventbridge_event(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("detail"), Mapping) and "detail-type" in value and "source" in value


def _envelope_id(kind: str, value: object) -> str | None:
    return f"{kind}:{value.lower()}" if isinstance(value, str) and _UUID.fullmatch(value) else None


def unwrap_envelopes(value: Any) -> tuple[Any, str | None]:
    """The request object inside any SNS/EventBridge envelopes, and the innermost envelope id."""
    delivery_id: str | None = None
    for _ in range(MAX_ENVELOPES + 1):
        if not isinstance(value, Mapping):
            return value, delivery_id
        if _is_sns_notification(value):
            delivery_id = _envelope_id("sns-message", value.get("MessageId")) or delivery_id
            value = decode_json(value["Message"])
        elif _is_eventbridge_event(value):
            delivery_id = _envelope_id("eventbridge-event", value.get("id")) or delivery_id
            value = value["detail"]
        else:
            return value, delivery_id
    raise InvalidRequestError(Reason.ENVELOPE_TOO_DEEP, f"more than {MAX_ENVELOPES} nested envelopes")


def unwrap(value: Any) -> Any:
    """The request object inside any SNS/EventBridge envelopes."""
    return unwrap_envelopes(value)[0]


def read_message_body(body: str) -> QueueMessage:
    request, delivery_id = unwrap_envelopes(decode_json(body))
    return QueueMessage(parse_unsubscribe_request(request), delivery_id)


def parse_message_body(body: str) -> UnsubscribeRequest:
    return read_message_body(body).request
