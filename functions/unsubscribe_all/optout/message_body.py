"""From an SQS message body to an UnsubscribeRequest, through SNS and EventBridge envelopes.

SNS topics (without raw delivery) wrap the request as `{"Type": "Notification", "Message":
"<json>"}`, EventBridge rules as `{"detail-type": ..., "source": ..., "detail": {...}}`; a rule
can feed a topic that feeds the queue, so envelopes may nest a few levels, but no deeper.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from optout.unsubscribe_request import (
    InvalidRequestError,
    Reason,
    UnsubscribeRequest,
    parse_unsubscribe_request,
)

# A request is a few hundred bytes; anything far larger is not one, and is not parsed.
MAX_BODY_BYTES = 64 * 1024
MAX_ENVELOPES = 3


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        raise InvalidRequestError(
            Reason.DUPLICATE_KEY, f"the JSON repeats the key(s) {', '.join(duplicated)}"
        )
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise InvalidRequestError(Reason.MALFORMED_JSON, f"the JSON holds {name}, which JSON does not allow")


def decode_json(text: str) -> Any:
    """Strict JSON: one value, no repeated keys, bounded size and nesting."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidRequestError(Reason.TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not text.strip():
        raise InvalidRequestError(Reason.MALFORMED_JSON, "the body is empty")
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidRequestError(Reason.MALFORMED_JSON, "the JSON is nested too deeply") from None
    except ValueError as error:
        if isinstance(error, InvalidRequestError):
            raise
        detail = getattr(error, "msg", str(error))
        raise InvalidRequestError(Reason.MALFORMED_JSON, f"the body is not valid JSON ({detail})") from None


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
