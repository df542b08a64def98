"""From an SQS message body (bare, SNS- or EventBridge-wrapped) to a checked request."""

import json

import pytest

from optout.domain.request import InvalidRequestError, UnsubscribeRequest
from optout.outcomes import Reason
from optout.triggers.message_body import parse_message_body, read_message_body
from optout.triggers.strict_json import MAX_BODY_BYTES
from tests.events import load_event


def sns_envelope(message: object) -> dict[str, object]:
    return {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(message)}


def sns(message: object) -> str:
    return json.dumps(sns_envelope(message))


def eventbridge(detail: object) -> dict[str, object]:
    return {"version": "0", "detail-type": "OptOut", "source": "app.settings", "detail": detail}


def test_a_bare_request_with_every_field_is_parsed():
    body = json.dumps(
        {
            "subscriberIdString": "jane@example.com",
            "businessUnitId": 3,
            "verbose": True,
            "idempotencyKey": "k-1",
            "channel": "EMAIL",
            "producerField": "ignored",
        }
    )
    assert parse_message_body(body) == UnsubscribeRequest("jane@example.com", 3, True, "k-1")


def test_email_is_an_alias_of_subscriber_id_string():
    assert parse_message_body('{"email": "jane@example.com"}').subscriber == "jane@example.com"


@pytest.mark.parametrize(
    "body",
    [
        sns({"subscriberIdString": "jane@example.com"}),
        json.dumps(eventbridge({"subscriberIdString": "jane@example.com"})),
        sns(eventbridge({"subscriberIdString": "jane@example.com"})),
        sns(sns_envelope(eventbridge({"subscriberIdString": "jane@example.com"}))),
    ],
    ids=["sns", "eventbridge", "eventbridge-in-sns", "eventbridge-in-sns-in-sns"],
)
def test_envelopes_are_unwrapped(body):
    assert parse_message_body(body).subscriber == "jane@example.com"


@pytest.mark.parametrize(
    "event_name", ["sqs-sns-wrapped.json", "sqs-eventbridge-wrapped.json", "sqs-batch.json"]
)
def test_the_sample_events_bodies_parse(event_name):
    for record in load_event(event_name)["Records"]:
        assert "@" in parse_message_body(record["body"]).subscriber


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", Reason.MALFORMED_JSON),
        ("   ", Reason.MALFORMED_JSON),
        ("{not json", Reason.MALFORMED_JSON),
        ("[" * 100_000 + "]" * 100_000, Reason.TOO_LARGE),
        ("[" * 20_000 + "]" * 20_000, Reason.TOO_COMPLEX),
        ("1" * 5000, Reason.NOT_AN_OBJECT),
        ('{"subscriberIdString": "a@x.com", "ignored": NaN}', Reason.MALFORMED_JSON),
        ('"jane@example.com"', Reason.NOT_AN_OBJECT),
        ("[]", Reason.NOT_AN_OBJECT),
        ("{}", Reason.MISSING_SUBSCRIBER),
        ('{"subscriberIdString": null}', Reason.MISSING_SUBSCRIBER),
        ('{"subscriberIdString": "a@x.com", "subscriberIdString": "b@x.com"}', Reason.DUPLICATE_KEY),
        ('{"subscriberIdString": "not-an-email"}', Reason.INVALID_EMAIL),
        ('{"subscriberIdString": 42}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "email": "b@x.com"}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "businessUnitId": -1}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "businessUnitId": 9223372036854775808}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "businessUnitId": "3"}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "businessUnitId": true}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "businessUnitId": 1.5}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "verbose": "yes"}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "idempotencyKey": ""}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "idempotencyKey": "a\\nb"}', Reason.INVALID_FIELD),
        ('{"subscriberIdString": "a@x.com", "channel": "SMS"}', Reason.UNSUPPORTED_CHANNEL),
        ("x" * (MAX_BODY_BYTES + 1), Reason.TOO_LARGE),
        (
            sns(sns_envelope(sns_envelope(sns_envelope({"subscriberIdString": "a@x.com"})))),
            Reason.ENVELOPE_TOO_DEEP,
        ),
    ],
)
def test_broken_bodies_are_refused_with_a_reason(body, reason):
    with pytest.raises(InvalidRequestError) as raised:
        parse_message_body(body)
    assert raised.value.reason is reason


def test_the_fingerprint_ignores_case_and_key_but_not_what_is_asked():
    plain = UnsubscribeRequest("Jane@Example.com", None, False, "k-1")
    assert plain.fingerprint() == UnsubscribeRequest("jane@example.com", None, False, "k-2").fingerprint()
    assert plain.fingerprint() != UnsubscribeRequest("jane@example.com", 1, False).fingerprint()
    assert plain.fingerprint() != UnsubscribeRequest("john@example.com").fingerprint()


SNS_ID = "2a3b4c5d-6e7f-5a8b-9c0d-1e2f3a4b5c6d"
EVENT_ID = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
OTHER_SNS_ID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
REQUEST = {"subscriberIdString": "jane@example.com"}


def with_id(envelope: dict[str, object], key: str, value: object) -> dict[str, object]:
    return {**envelope, key: value}


@pytest.mark.parametrize(
    ("body", "delivery_id"),
    [
        (json.dumps(REQUEST), None),
        (json.dumps(with_id(sns_envelope(REQUEST), "MessageId", SNS_ID)), f"sns-message:{SNS_ID}"),
        (json.dumps(with_id(eventbridge(REQUEST), "id", EVENT_ID)), f"eventbridge-event:{EVENT_ID}"),
        # A rule feeding a topic: EventBridge's retry reaches SNS as a new notification with a new
        # MessageId, but the event keeps its id; SNS's own retry keeps both. The innermost id
        # is the one every redelivery along the way keeps.
        (
            json.dumps(
                with_id(sns_envelope(with_id(eventbridge(REQUEST), "id", EVENT_ID)), "MessageId", SNS_ID)
            ),
            f"eventbridge-event:{EVENT_ID}",
        ),
        (
            json.dumps(
                with_id(
                    sns_envelope(with_id(sns_envelope(REQUEST), "MessageId", OTHER_SNS_ID)),
                    "MessageId",
                    SNS_ID,
                )
            ),
            f"sns-message:{OTHER_SNS_ID}",
        ),
        # An id that is not one SNS or EventBridge would write is no identity: the next one out is.
        (
            json.dumps(with_id(sns_envelope(with_id(eventbridge(REQUEST), "id", "1")), "MessageId", SNS_ID)),
            f"sns-message:{SNS_ID}",
        ),
        (json.dumps(with_id(eventbridge(REQUEST), "id", 42)), None),
        (json.dumps(with_id(sns_envelope(REQUEST), "MessageId", "x" * 5000)), None),
    ],
    ids=[
        "bare",
        "sns",
        "eventbridge",
        "eventbridge-in-sns",
        "sns-in-sns",
        "malformed-inner-id",
        "number",
        "long",
    ],
)
def test_the_innermost_envelope_id_is_the_delivery_identity(body, delivery_id):
    message = read_message_body(body)
    assert message.request.subscriber == "jane@example.com"
    assert message.delivery_id == delivery_id


@pytest.mark.parametrize("event_name", ["sqs-sns-wrapped", "sqs-eventbridge-wrapped"])
def test_the_sample_envelopes_carry_their_ids(event_name):
    [record] = load_event(event_name)["Records"]
    body = json.loads(record["body"])
    expected = body["MessageId"] if "MessageId" in body else body["id"]
    assert (read_message_body(record["body"]).delivery_id or "").endswith(":" + expected)
