"""The local permission check's parts: reading calls off HTTP requests, the policy evaluator, the mapping."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from local.aws.call_log import AwsCall, CallLog, call_of, principal_of, recording
from local.aws.iam_policy import Decision, Policy
from local.aws.permissions import ArnLookup, Permission, check, required_permissions

SCOPE = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/%s/aws4_request, SignedHeaders=host, Signature=x"
)
LOOKUP = ArnLookup(
    secret_arn=lambda name: f"arn:aws:secretsmanager:eu-west-1:1:secret:{name}-AbCdEf",
    stack_arn=lambda name: f"arn:aws:cloudformation:eu-west-1:1:stack/{name}/id",
)


def test_the_caller_is_the_app_id_of_the_user_agent() -> None:
    agent = "Boto3/1.43 md/Botocore#1.43 ua/2.1 os/linux app/hubspot-unsubscribe-all cfg/retry-mode#standard"
    assert principal_of(agent) == "hubspot-unsubscribe-all"
    assert principal_of("Boto3/1.43 md/Botocore#1.43") is None


def test_a_json_protocol_request_is_read_as_its_service_operation_and_resources() -> None:
    headers = {"authorization": SCOPE % "dynamodb", "x-amz-target": "DynamoDB_20120810.PutItem"}
    body = json.dumps({"TableName": "t-idempotency", "Item": {"id": {"S": "x"}}}).encode()
    assert call_of("f", headers, body) == AwsCall(
        "f", "dynamodb", "eu-west-1", "PutItem", (("TableName", "t-idempotency"),)
    )


def test_a_dynamodb_batch_names_each_of_its_tables_and_needs_its_action_on_each() -> None:
    headers = {"authorization": SCOPE % "dynamodb", "x-amz-target": "DynamoDB_20120810.BatchWriteItem"}
    body = json.dumps({"RequestItems": {"t-a": [{"PutRequest": {}}], "t-b": [{"PutRequest": {}}]}}).encode()
    tables = (("TableName", "t-a"), ("TableName", "t-b"))
    call = AwsCall("f", "dynamodb", "eu-west-1", "BatchWriteItem", tables)
    assert call_of("f", headers, body) == call
    assert required_permissions(call, LOOKUP) == [
        Permission("dynamodb:BatchWriteItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t-a"),
        Permission("dynamodb:BatchWriteItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t-b"),
    ]


def test_a_query_protocol_request_is_read_from_its_form() -> None:
    body = b"Action=DescribeStacks&Version=2010-05-15&StackName=my-stack"
    assert call_of("cli", {"authorization": SCOPE % "cloudformation"}, body) == AwsCall(
        "cli", "cloudformation", "eu-west-1", "DescribeStacks", (("StackName", "my-stack"),)
    )


def test_an_unsigned_request_is_no_api_call() -> None:
    assert call_of("f", {}, b"{}") is None


def _served_by_recording(body: bytes, content_length: int) -> tuple[list[AwsCall], bytes]:
    log = CallLog()
    received: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        received.append(environ["wsgi.input"].read())
        return [b""]

    environ = {
        "CONTENT_LENGTH": str(content_length),
        "wsgi.input": io.BytesIO(body),
        "HTTP_USER_AGENT": "Boto3/1.43 app/f",
        "HTTP_AUTHORIZATION": SCOPE % "dynamodb",
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem",
    }
    recording(app, log)(environ, lambda *args: None)
    return log.calls(), received[0]


def test_a_request_received_whole_is_recorded_and_passed_on_unchanged() -> None:
    body = json.dumps({"TableName": "t-idempotency"}).encode()
    calls, received = _served_by_recording(body, len(body))
    assert calls == [AwsCall("f", "dynamodb", "eu-west-1", "PutItem", (("TableName", "t-idempotency"),))]
    assert received == body


def test_a_request_whose_body_was_cut_short_in_transit_is_no_call() -> None:
    # Given a PutItem whose connection was reset after 10 of its bytes
    body = json.dumps({"TableName": "t-idempotency"}).encode()
    # When moto's application is served through the recorder
    calls, received = _served_by_recording(body[:10], len(body))
    # Then nothing is recorded (no "PutItem needs ?" problem), and moto still sees what arrived
    assert calls == []
    assert received == body[:10]


POLICY = Policy.of(
    [
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "SQS:get*"],
            "Resource": "arn:aws:sqs:eu-west-1:1:q-??",
        },
        {"Effect": "Deny", "Action": "sqs:GetQueueUrl", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "sqs:*", "Resource": "arn:aws:dynamodb:*:1:table/t"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"Bool": {"x": "true"}}},
    ]
)


@pytest.mark.parametrize(
    ("action", "resource", "decision"),
    [
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q-01", Decision.ALLOWED),
        ("sqs:sendmessage", "arn:aws:sqs:eu-west-1:1:q-01", Decision.ALLOWED),  # actions ignore case
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:Q-01", Decision.NOT_ALLOWED),  # resources do not
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q-001", Decision.NOT_ALLOWED),  # ? is one character
        ("sqs:GetQueueAttributes", "arn:aws:sqs:eu-west-1:1:q-ab", Decision.ALLOWED),
        ("sqs:GetQueueUrl", "arn:aws:sqs:eu-west-1:1:q-ab", Decision.DENIED),  # a Deny wins
        ("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/t", Decision.ALLOWED),
        ("sqs:SendMessage", "arn:aws:dynamodb:us-east-1:1:table/t", Decision.NOT_ALLOWED),  # NotAction
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:1:key/k", Decision.NOT_ALLOWED),  # conditions not evaluated
    ],
)
def test_the_evaluator_follows_iam_s_matching_rules(action: str, resource: str, decision: Decision) -> None:
    assert POLICY.decision(action, resource) is decision


def test_batch_operations_and_message_moves_need_what_sqs_documents() -> None:
    batch = AwsCall("f", "sqs", "eu-west-1", "SendMessageBatch", (("QueueUrl", "https://sqs/1/q-01"),))
    assert required_permissions(batch, LOOKUP) == [
        Permission("sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:q-01")
    ]
    move = AwsCall(
        "cli",
        "sqs",
        "eu-west-1",
        "StartMessageMoveTask",
        (("DestinationArn", "arn:aws:sqs:eu-west-1:1:q"), ("SourceArn", "arn:aws:sqs:eu-west-1:1:dlq")),
    )
    assert [(p.action, p.resource.rsplit(":", 1)[-1]) for p in required_permissions(move, LOOKUP)] == [
        ("sqs:StartMessageMoveTask", "dlq"),
        ("sqs:ReceiveMessage", "dlq"),
        ("sqs:DeleteMessage", "dlq"),
        ("sqs:GetQueueAttributes", "dlq"),
        ("sqs:SendMessage", "q"),
    ]
    secret = AwsCall("f", "secretsmanager", "eu-west-1", "GetSecretValue", (("SecretId", "s"),))
    assert required_permissions(secret, LOOKUP)[0].resource.endswith(":secret:s-AbCdEf")


def test_a_call_the_check_does_not_know_or_a_caller_without_a_policy_is_a_problem() -> None:
    # Given a purge (no mapping) by the function, and a call by a caller the template gives nothing
    purge = AwsCall("hubspot-unsubscribe-all", "sqs", "eu-west-1", "PurgeQueue", ())
    stranger = AwsCall(
        "someone-else", "sqs", "eu-west-1", "SendMessage", (("QueueUrl", "https://sqs/1/q-01"),)
    )

    # When they are checked, then each is a problem, not a pass
    found = check([purge, stranger], {"the function's role": POLICY}, LOOKUP)
    assert [(problem.call, problem.permission) for problem in found] == [(purge, None), (stranger, None)]
    assert "does not know this call" in found[0].why
