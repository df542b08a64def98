"""The DLQ commands' parts that moto cannot exercise: how a message is shown, which errors mean
"no move task here", and the native redrive (SQS's StartMessageMoveTask, which moto lacks)
against botocore's Stubber with the documented response shapes."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from operator_cli.dead_letters import NATIVE, describe, is_unsupported, redrive, view_of
from operator_cli.errors import OperationError

DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/stack-dlq"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/stack-queue"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:stack-dlq"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:stack-queue"


def attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def test_a_parked_message_shows_its_reason_and_masked_address_even_inside_an_sns_envelope():
    # Given a dead letter whose body is an SNS notification wrapping a request
    body = json.dumps(
        {"Type": "Notification", "Message": json.dumps({"subscriberIdString": "jane@example.com"})}
    )
    message: Any = {
        "MessageId": "m-1",
        "Body": body,
        "MessageAttributes": {
            "reason": attribute("HUBSPOT_REJECTED"),
            "category": attribute("hubspot"),
            # the function's masking misses such addresses; the CLI masks them again
            "detail": attribute('HubSpot: "jane@@example.com" and a@b@c.com are invalid'),
            "failedAt": attribute("2026-11-26T10:00:00Z"),
            "sourceMessageId": attribute("s-1"),
            "receiveCount": attribute("1"),
        },
    }

    # When it is shown
    lines = describe(1, view_of(message))

    # Then the address is masked, the reason and its context given, no address whole
    assert lines[0] == "1. j***@example.com  HUBSPOT_REJECTED (hubspot)"
    assert lines[1] == "   failed at 2026-11-26T10:00:00Z; source message s-1; receives 1; message m-1"
    assert "jane@@example.com" not in lines[2]
    assert "a@b@c.com" not in lines[2]
    assert lines[2].startswith("   detail: HubSpot: ")


def test_what_producers_wrote_is_shown_escaped_so_no_line_can_be_forged():
    # Given a letter whose attributes hold a newline, a carriage return, a bidi override and NUL
    forged = "x\n2. j***@example.com  unsubscribed\r\u202eevil\u0000"
    message: Any = {
        "MessageId": "m-3\n",
        "Body": json.dumps({"subscriberIdString": "jane\u202e@example.com"}),
        "MessageAttributes": {
            "reason": attribute("DUPLICATE_KEY\n"),
            "category": attribute("validation"),
            "detail": attribute(forged),
            "failedAt": attribute("2026-11-26T10:00:00Z"),
            "sourceMessageId": attribute("s-3\u2028"),
            "receiveCount": attribute("1"),
        },
    }

    # When it is shown
    lines = describe(3, view_of(message))

    # Then it takes its three lines, each printable, every control and bidi character escaped
    assert len(lines) == 3
    assert all(line.isprintable() for line in lines)
    assert lines[2] == "   detail: x\\n2. j***@example.com  unsubscribed\\r\\u202eevil\\u0000"
    assert "\\u2028" in lines[1]


def test_a_body_parked_in_base64_is_decoded_to_find_its_subscriber():
    # Given a letter whose body SQS could not carry as text, parked base64-encoded
    body = json.dumps({"subscriberIdString": "jane@example.com", "note": "\ufffe"}, ensure_ascii=False)
    message: Any = {
        "MessageId": "m-4",
        "Body": base64.b64encode(body.encode()).decode(),
        "MessageAttributes": {"reason": attribute("INVALID_FIELD"), "bodyEncoding": attribute("base64")},
    }

    # When it is shown, then its subscriber is found (masked) and the encoding said
    lines = describe(4, view_of(message))
    assert lines[0] == "4. j***@example.com  INVALID_FIELD (-)"
    assert "body base64" in lines[1]


def test_a_message_sqs_moved_without_attributes_says_so():
    lines = describe(2, view_of({"MessageId": "m-2", "Body": "not json"}))
    assert lines == [
        "2. -  no reason attribute: SQS moved it after repeated failed deliveries",
        "   message m-2",
    ]


def client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "StartMessageMoveTask")


@pytest.mark.parametrize(
    ("code", "status", "unsupported"),
    [
        ("500", 500, True),  # moto: an HTML 500, no AWS error code
        ("UnsupportedOperation", 400, True),
        ("InvalidAction", 400, True),
        ("NotImplemented", 501, True),
        ("InternalError", 500, False),  # AWS had a problem: not a reason to move by hand
        ("AccessDenied", 403, False),
        ("ResourceNotFoundException", 400, False),
    ],
)
def test_only_a_missing_operation_counts_as_unsupported(code, status, unsupported):
    assert is_unsupported(client_error(code, status)) is unsupported


@pytest.fixture
def stubbed():
    sqs = boto3.client("sqs", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    probe = boto3.client("sqs", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(sqs) as sqs_stub, Stubber(probe) as probe_stub:
        for url, arn in ((DLQ_URL, DLQ_ARN), (QUEUE_URL, QUEUE_ARN)):
            sqs_stub.add_response(
                "get_queue_attributes",
                {"Attributes": {"QueueArn": arn}},
                {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
            )
        yield sqs, probe, sqs_stub, probe_stub
        sqs_stub.assert_no_pending_responses()
        probe_stub.assert_no_pending_responses()


def task(status: str, moved: int, **extra: str) -> dict[str, object]:
    return {
        "Results": [
            {"TaskHandle": "other", "Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 99},
            {"TaskHandle": "h-1", "Status": status, "ApproximateNumberOfMessagesMoved": moved, **extra},
        ]
    }


def test_redrive_starts_the_move_task_from_dlq_to_queue_and_waits_for_it(stubbed):
    # Given an endpoint with the move task, which runs, then completes having moved 7
    sqs, probe, sqs_stub, probe_stub = stubbed
    probe_stub.add_response(
        "start_message_move_task", {"TaskHandle": "h-1"}, {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN}
    )
    listing = {"SourceArn": DLQ_ARN, "MaxResults": 10}
    sqs_stub.add_response("list_message_move_tasks", task("RUNNING", 3), listing)
    sqs_stub.add_response("list_message_move_tasks", task("COMPLETED", 7), listing)
    sleeps: list[float] = []

    # When the DLQ is redriven
    result = redrive(sqs, probe, DLQ_URL, QUEUE_URL, sleep=sleeps.append, poll_s=2.0)

    # Then the task's own count is reported, having polled until it finished
    assert (result.method, result.moved, result.status, result.task_handle) == (NATIVE, 7, "COMPLETED", "h-1")
    assert sleeps == [2.0]


def test_a_failed_move_task_is_an_operation_error_with_its_reason(stubbed):
    sqs, probe, sqs_stub, probe_stub = stubbed
    probe_stub.add_response("start_message_move_task", {"TaskHandle": "h-1"})
    sqs_stub.add_response("list_message_move_tasks", task("FAILED", 2, FailureReason="AccessDenied on queue"))
    with pytest.raises(OperationError, match="AccessDenied on queue"):
        redrive(sqs, probe, DLQ_URL, QUEUE_URL, sleep=lambda _: None)


def test_a_move_task_still_running_at_the_timeout_is_reported_as_running(stubbed):
    # Given a task that keeps running, and a clock past the deadline after one poll
    sqs, probe, sqs_stub, probe_stub = stubbed
    probe_stub.add_response("start_message_move_task", {"TaskHandle": "h-1"})
    sqs_stub.add_response("list_message_move_tasks", task("RUNNING", 4))
    ticks = iter([0.0, 301.0])

    # When the wait times out, then the result says it is still running, with the count so far
    result = redrive(sqs, probe, DLQ_URL, QUEUE_URL, timeout_s=300, clock=lambda: next(ticks))
    assert (result.status, result.moved) == ("RUNNING", 4)


def test_a_move_task_refused_for_another_reason_is_not_replaced_by_a_plain_move(stubbed):
    sqs, probe, _, probe_stub = stubbed
    probe_stub.add_client_error("start_message_move_task", "AccessDenied", "not allowed", 403)
    with pytest.raises(OperationError, match="AccessDenied: not allowed"):
        redrive(sqs, probe, DLQ_URL, QUEUE_URL)
