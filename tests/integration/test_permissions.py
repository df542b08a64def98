"""Permissions checked before deploy: every AWS call of the function and the CLI against template.yaml.

The `function_stack` fixture checks each test's calls; these tests show that the check sees the
calls as IAM would, and that it fails when the template stops allowing one: a copy of the
template with one action removed, or one resource changed, is checked against the same calls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.aws.call_log import AwsCall
from local.aws.moto_endpoint import MotoEndpoint
from local.aws.permissions import check_stack_calls, moto_lookup
from local.aws.resources import TEMPLATE_PATH, LocalResources
from operator_cli.main import main
from tests.conftest import FunctionStack
from tests.integration.function_harness import invoke, sqs_event
from tests.integration.one_click_support import click, mint, open_page, token_of
from tests.integration.test_cli_support import write_local_state

FUNCTION = "hubspot-unsubscribe-all"
CLI = "unsubscribe-all-cli"


def template_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def problems(stack: FunctionStack, moto: MotoEndpoint, calls: list[AwsCall], template: Path) -> list[str]:
    lookup = moto_lookup(stack.session, moto.url)
    return [str(problem) for problem in check_stack_calls(calls, stack.resources, lookup, template)]


@pytest.fixture
def function_calls(function_stack: FunctionStack, moto_endpoint: MotoEndpoint) -> list[AwsCall]:
    """The calls the function makes for a batch: a request done, the same key for another address
    (dead-lettered), and a body that is not JSON (dead-lettered)."""
    bodies = [
        {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-1"},
        {"subscriberIdString": "john@example.com", "idempotencyKey": "k-1"},
        "{not json",
    ]
    invoke(sqs_event(function_stack, bodies))
    return [call for call in moto_endpoint.calls.calls() if call.principal == FUNCTION]


def test_the_function_s_calls_are_seen_as_iam_sees_them_and_the_template_allows_them(
    function_stack: FunctionStack, moto_endpoint: MotoEndpoint, function_calls: list[AwsCall]
) -> None:
    # Given the calls the function made for a batch (the test's own calls are not recorded)
    made = {(call.service, call.operation) for call in function_calls}

    # Then they are the store's writes, the token read and the DLQ send, each naming its resource
    assert made >= {
        ("dynamodb", "PutItem"),
        ("dynamodb", "BatchWriteItem"),
        ("secretsmanager", "GetSecretValue"),
        ("sqs", "SendMessageBatch"),
    }
    resources = function_stack.resources
    named = {value for call in function_calls for _, value in call.resources}
    assert {resources.table_name, resources.secret_id, resources.dead_letter_queue_url} <= named

    # And template.yaml allows every one of them
    assert problems(function_stack, moto_endpoint, function_calls, TEMPLATE_PATH) == []


def needed(resources: LocalResources, what: str) -> str:
    arn = "arn:aws:%s:us-east-1:123456789012:%s"
    return {
        "table": "dynamodb:PutItem on " + arn % ("dynamodb", f"table/{resources.table_name}"),
        "dlq": f"sqs:SendMessage on {resources.dead_letter_queue_arn}",
        "secret": "secretsmanager:GetSecretValue on "
        + arn % ("secretsmanager", f"secret:{resources.secret_id}-"),
    }[what]


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        pytest.param(
            "[dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem",
            "[dynamodb:GetItem, dynamodb:UpdateItem",
            "table",
            id="without-PutItem",
        ),
        pytest.param(
            "Action: sqs:SendMessage\n                Resource: !GetAtt UnsubscribeDeadLetterQueue.Arn",
            "Action: sqs:SendMessage\n                Resource: !GetAtt UnsubscribeQueue.Arn",
            "dlq",
            id="send-to-the-wrong-queue",
        ),
        pytest.param(
            "secret:${HubSpotTokenSecretName}-??????",
            "secret:${HubSpotTokenSecretName}",
            "secret",
            id="secret-without-its-suffix",
        ),
    ],
)
def test_a_template_that_stops_allowing_a_call_fails_the_check(
    *,
    function_stack: FunctionStack,
    moto_endpoint: MotoEndpoint,
    function_calls: list[AwsCall],
    tmp_path: Path,
    old: str,
    new: str,
    what: str,
) -> None:
    # Given a copy of template.yaml with one action removed or one resource changed
    copy = template_copy(tmp_path, old, new)

    # When the function's calls are checked against it
    found = problems(function_stack, moto_endpoint, function_calls, copy)

    # Then the check fails, naming the call, the permission it needs and whose policy lacks it
    assert found
    assert all(
        f"{FUNCTION} " in problem and "not allowed by the function's role" in problem for problem in found
    )
    assert any(needed(function_stack.resources, what) in problem for problem in found), found


def operate(stack: FunctionStack, moto: MotoEndpoint, tmp_path: Path) -> list[AwsCall]:
    """What an operator does: enqueue a file, list the DLQ, redrive it; the CLI's calls."""
    state = write_local_state(tmp_path, moto.url, stack.resources)
    stack.session.client("sqs").send_message(
        QueueUrl=stack.resources.dead_letter_queue_url, MessageBody=json.dumps({"email": "a@example.com"})
    )
    addresses = tmp_path / "leavers.txt"
    addresses.write_text("jane@example.com\njohn@example.com\n", encoding="utf-8")
    for command in (["enqueue", str(addresses)], ["dlq"], ["dlq", "redrive"]):
        assert main([*command, "--local-state", str(state)]) == 0, command
    return [call for call in moto.calls.calls() if call.principal == CLI]


def test_the_operator_cli_s_calls_are_what_operator_policy_allows(
    function_stack: FunctionStack,
    moto_endpoint: MotoEndpoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the calls the CLI makes for an enqueue, a DLQ listing and a redrive
    calls = operate(function_stack, moto_endpoint, tmp_path)
    made = {call.operation for call in calls}
    assert {
        "SendMessageBatch",
        "ReceiveMessage",
        "ChangeMessageVisibilityBatch",
        "GetQueueAttributes",
    } <= made

    # Then OperatorPolicy allows each; without sqs:SendMessage on the queue, enqueue is refused
    assert problems(function_stack, moto_endpoint, calls, TEMPLATE_PATH) == []
    copy = template_copy(
        tmp_path, "Action: [sqs:SendMessage, sqs:GetQueueAttributes]", "Action: [sqs:GetQueueAttributes]"
    )
    found = problems(function_stack, moto_endpoint, calls, copy)
    queue_arn = function_stack.resources.queue_arn
    assert (
        f"{CLI} sqs:SendMessageBatch needs sqs:SendMessage on {queue_arn}: not allowed by OperatorPolicy"
        in found
    )


@pytest.fixture
def one_click_calls(function_stack: FunctionStack, moto_endpoint: MotoEndpoint) -> list[AwsCall]:
    """The calls the function makes to mint a link, show its page and queue its click."""
    token = token_of(mint("jane@example.com"))
    assert open_page(token)["statusCode"] == 200
    assert click(token)["statusCode"] == 200
    return [call for call in moto_endpoint.calls.calls() if call.principal == FUNCTION]


def test_one_click_links_use_the_key_under_its_key_policy_and_the_context_it_names(
    function_stack: FunctionStack, moto_endpoint: MotoEndpoint, one_click_calls: list[AwsCall]
) -> None:
    # Given the calls the function made for a link (the test's own calls are not recorded)
    resources = function_stack.resources
    kms = [call for call in one_click_calls if call.service == "kms"]

    # Then they are Encrypt and Decrypt on the stack's key with the links' context, and a send to the
    # function's own queue
    assert {call.operation for call in kms} == {"Encrypt", "Decrypt"}
    for call in kms:
        assert call.parameter("KeyId") == resources.link_key_arn
        assert call.parameter("EncryptionContext:purpose") == "one-click-unsubscribe"
        assert call.parameter("EncryptionContext:stack") == resources.stack_name
    sends = [call for call in one_click_calls if call.operation == "SendMessage"]
    assert [call.parameter("QueueUrl") for call in sends] == [resources.queue_url]
    # And the template allows them all: the key policy the KMS calls, the role the send
    assert problems(function_stack, moto_endpoint, one_click_calls, TEMPLATE_PATH) == []


@pytest.mark.parametrize(
    ("old", "new", "needs"),
    [
        pytest.param(
            "Action: [kms:Encrypt, kms:Decrypt]",
            "Action: [kms:Encrypt]",
            "kms:Decrypt",
            id="without-Decrypt",
        ),
        pytest.param(
            "kms:EncryptionContext:purpose: one-click-unsubscribe",
            "kms:EncryptionContext:purpose: password-reset",
            "kms:Encrypt",
            id="another-purpose-in-the-condition",
        ),
        pytest.param(
            "kms:EncryptionContext:stack: !Ref AWS::StackName",
            'kms:EncryptionContext:stack: "another-stack"',
            "kms:Decrypt",
            id="another-stack-in-the-condition",
        ),
        pytest.param(
            "AWS: !GetAtt UnsubscribeAllFunctionRole.Arn",
            'AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"',
            "kms:Encrypt",
            id="the-account-instead-of-the-function",
        ),
    ],
)
def test_a_key_policy_that_stops_allowing_the_links_fails_the_check(
    *,
    function_stack: FunctionStack,
    moto_endpoint: MotoEndpoint,
    one_click_calls: list[AwsCall],
    tmp_path: Path,
    old: str,
    new: str,
    needs: str,
) -> None:
    # Given a copy of template.yaml whose key policy is changed
    copy = template_copy(tmp_path, old, new)

    # When the function's calls for a link are checked against it
    found = problems(function_stack, moto_endpoint, one_click_calls, copy)

    # Then the check fails on the key policy, naming the permission on the stack's key
    key = function_stack.resources.link_key_arn
    assert any(
        f"{needs} on {key}" in problem and "by OneClickLinkKey's key policy" in problem for problem in found
    ), found


def test_without_a_send_to_its_own_queue_a_click_fails_the_check(
    function_stack: FunctionStack, moto_endpoint: MotoEndpoint, one_click_calls: list[AwsCall], tmp_path: Path
) -> None:
    copy = template_copy(
        tmp_path,
        "Action: sqs:SendMessage\n                Resource: !GetAtt UnsubscribeQueue.Arn",
        "Action: sqs:SendMessage\n                Resource: !GetAtt UnsubscribeDeadLetterQueue.Arn",
    )
    found = problems(function_stack, moto_endpoint, one_click_calls, copy)
    queue_arn = function_stack.resources.queue_arn
    assert (
        f"{FUNCTION} sqs:SendMessage needs sqs:SendMessage on {queue_arn}: not allowed by the function's role"
        in found
    )
