"""Properties of message parsing, for any body: a request or a reason, never a crash or a guess."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from optout.domain.request import (
    MAX_BUSINESS_UNIT_ID,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    InvalidRequestError,
    UnsubscribeRequest,
)
from optout.outcomes import Reason
from optout.triggers.message_body import MAX_ENVELOPES, parse_message_body

EXAMPLES = settings(max_examples=300, deadline=None)
KNOWN_FIELDS = {"subscriberIdString", "email", "businessUnitId", "verbose", "idempotencyKey", "channel"}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)
EXTRA_FIELDS = st.dictionaries(
    st.text(min_size=1).filter(lambda key: key not in KNOWN_FIELDS | {"Type", "detail"}),
    JSON_VALUES,
    max_size=3,
)
KEYS = st.text(min_size=1, max_size=MAX_IDEMPOTENCY_KEY_LENGTH).filter(
    lambda key: bool(key.strip()) and key.isprintable()
)


def parse_or_reason(body: str) -> UnsubscribeRequest | Reason:
    try:
        return parse_message_body(body)
    except InvalidRequestError as error:
        return error.reason


def wrap(request: dict[str, Any], envelopes: list[str]) -> dict[str, Any]:
    """The request inside SNS ("sns") and EventBridge ("eventbridge") envelopes, innermost first."""
    value = request
    for envelope in envelopes:
        if envelope == "sns":
            value = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(value)}
        else:
            value = {"detail-type": "Unsubscribe", "source": "crm", "detail": value}
    return value


@EXAMPLES
@given(st.text(max_size=300))
def test_any_text_is_a_request_or_a_reason(body: str) -> None:
    # Given any text as a message body, when it is parsed
    result = parse_or_reason(body)
    # Then it is a request or a reason from the DLQ's vocabulary (anything raised would fail here)
    assert isinstance(result, UnsubscribeRequest | Reason)


@EXAMPLES
@given(JSON_VALUES)
def test_any_json_value_is_a_request_or_a_reason(value: Any) -> None:
    # Given any JSON value, when its text is parsed
    result = parse_or_reason(json.dumps(value))
    # Then it is a request only if it was an object naming a subscriber
    if isinstance(result, UnsubscribeRequest):
        assert isinstance(value, dict)
        assert result.subscriber in (value.get("subscriberIdString"), value.get("email"))


@EXAMPLES
@given(
    email=st.emails(),
    business_unit_id=st.none() | st.integers(0, MAX_BUSINESS_UNIT_ID),
    verbose=st.booleans(),
    key=st.none() | KEYS,
    extra=EXTRA_FIELDS,
    envelopes=st.lists(st.sampled_from(["sns", "eventbridge"]), max_size=MAX_ENVELOPES),
)
def test_a_valid_request_is_read_exactly_through_up_to_three_envelopes(
    *,
    email: str,
    business_unit_id: int | None,
    verbose: bool,
    key: str | None,
    extra: dict[str, Any],
    envelopes: list[str],
) -> None:
    # Given a valid request with unknown extra fields, in up to three envelopes
    request = {**extra, "subscriberIdString": email, "verbose": verbose, "channel": "EMAIL"}
    if business_unit_id is not None:
        request["businessUnitId"] = business_unit_id
    if key is not None:
        request["idempotencyKey"] = key

    # When its body is parsed
    result = parse_message_body(json.dumps(wrap(request, envelopes)))

    # Then every field is read as sent
    assert result == UnsubscribeRequest(email, business_unit_id, verbose, key)


@EXAMPLES
@given(st.lists(st.sampled_from(["sns", "eventbridge"]), min_size=MAX_ENVELOPES + 1, max_size=6))
def test_more_than_three_envelopes_are_refused(envelopes: list[str]) -> None:
    # Given a valid request in four or more envelopes, when it is parsed, then it is refused as too deep
    body = json.dumps(wrap({"subscriberIdString": "a@example.com"}, envelopes))
    assert parse_or_reason(body) is Reason.ENVELOPE_TOO_DEEP


@EXAMPLES
@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() | st.text(max_size=5))
def test_business_unit_id_is_accepted_only_as_an_int64_at_least_zero(value: Any) -> None:
    # Given any number, boolean or string as businessUnitId, when the request is parsed
    result = parse_or_reason(json.dumps({"subscriberIdString": "a@example.com", "businessUnitId": value}))
    # Then it is accepted exactly when it is an integer (not a boolean) from 0 to 2^63 - 1
    valid = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_BUSINESS_UNIT_ID
    assert result == (UnsubscribeRequest("a@example.com", value) if valid else Reason.INVALID_FIELD)


@EXAMPLES
@given(st.text(max_size=MAX_IDEMPOTENCY_KEY_LENGTH + 10))
def test_an_idempotency_key_is_accepted_only_when_printable_non_blank_and_short(key: str) -> None:
    # Given any string as idempotencyKey, when the request is parsed
    result = parse_or_reason(json.dumps({"subscriberIdString": "a@example.com", "idempotencyKey": key}))
    # Then it is accepted, unchanged, exactly when it is non-blank, printable and at most 256 characters
    valid = bool(key.strip()) and key.isprintable() and len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
    expected = UnsubscribeRequest("a@example.com", idempotency_key=key) if valid else Reason.INVALID_FIELD
    assert result == expected


@EXAMPLES
@given(JSON_VALUES.filter(lambda channel: channel not in (None, "EMAIL")))
def test_any_channel_but_email_is_unsupported(channel: Any) -> None:
    # Given a valid request for any other channel, when it is parsed, then the channel is refused
    body = json.dumps({"subscriberIdString": "a@example.com", "channel": channel})
    assert parse_or_reason(body) is Reason.UNSUPPORTED_CHANNEL
