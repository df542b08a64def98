"""Reading an SQS batch's records: the identity each request gets, and the deadline between records."""

from __future__ import annotations

import json
from itertools import count

from optout.deadline import Deadline
from optout.outcomes import Reason, Rejected, RetryKind, RetryLater
from optout.triggers.sqs import read_records
from optout.triggers.sqs_event import SqsRecord
from tests.events import load_event

SNS_ID = "2a3b4c5d-6e7f-5a8b-9c0d-1e2f3a4b5c6d"


def record(message_id: str, body: object) -> SqsRecord:
    raw = load_event("sqs-batch")["Records"][0]
    raw.update(messageId=message_id, body=body if isinstance(body, str) else json.dumps(body))
    return SqsRecord.from_event(raw)


def sns(message: object) -> dict[str, object]:
    return {"Type": "Notification", "MessageId": SNS_ID, "Message": json.dumps(message)}


def test_a_request_s_identity_is_its_key_else_its_envelope_s_id_else_the_sqs_message_id():
    # Given a keyed request, an SNS notification without a key, and a bare request without one
    records = [
        record("m-1", sns({"subscriberIdString": "a@example.com", "idempotencyKey": "k-1"})),
        record("m-2", sns({"subscriberIdString": "b@example.com"})),
        record("m-3", {"subscriberIdString": "c@example.com"}),
    ]

    # When they are read
    items, others = read_records(records, Deadline.after(10))

    # Then each identity keeps its existing format, and the notification's id names the second
    assert others == {}
    assert [item.identity for item in items] == ["key:k-1", f"sns-message:{SNS_ID}", "sqs-message:m-3"]


def test_records_the_deadline_does_not_reach_are_left_for_a_retry_unread():
    # Given a clock that moves on a second each time it is read, and a deadline 4 s away
    ticks = count()
    deadline = Deadline.after(4, clock=lambda: float(next(ticks)))
    records = [
        record(f"m-{n}", "{not json" if n % 2 else {"subscriberIdString": f"u{n}@example.com"})
        for n in range(6)
    ]

    # When the records are read
    items, others = read_records(records, deadline)

    # Then those read before the deadline have their request or their reason; the rest wait unread
    assert [item.correlation_id for item in items] == ["m-0", "m-2"]
    assert others["m-1"] == Rejected(Reason.MALFORMED_JSON, others["m-1"].message)
    unread = {
        message_id: outcome.kind for message_id, outcome in others.items() if isinstance(outcome, RetryLater)
    }
    assert unread == dict.fromkeys(["m-3", "m-4", "m-5"], RetryKind.OUT_OF_TIME)
