"""The local stack in-process: resources as template.yaml says, the function's environment, the
state file for the CLI, both triggers end to end, and a clean stop."""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from local.aws.resources import TemplateReader
from local.stack import LocalStack, StackOptions

SETTLE_TIMEOUT_S = 20.0
STACK_THREAD_PREFIXES = ("sqs-poller", "api-gateway", "hubspot-sandbox", "lambda-invocation")


@pytest.fixture
def template() -> TemplateReader:
    return TemplateReader.from_file()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(StackOptions(api_port=0, run_dir=tmp_path)) as local_stack:
        yield local_stack


def accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


def test_the_queues_and_table_have_the_template_s_settings(stack, template):
    # Given the stack is up
    sqs = stack.session.client("sqs")
    dynamodb = stack.session.client("dynamodb")
    queue_properties = template.properties("UnsubscribeQueue")
    dlq_properties = template.properties("UnsubscribeDeadLetterQueue")
    table_properties = template.properties("IdempotencyTable")

    # When the resources are described
    queue = sqs.get_queue_attributes(QueueUrl=stack.resources.queue_url, AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=stack.resources.dead_letter_queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    table = dynamodb.describe_table(TableName=stack.resources.table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=stack.resources.table_name)["TimeToLiveDescription"]

    # Then they match template.yaml
    assert queue["VisibilityTimeout"] == str(queue_properties["VisibilityTimeout"])
    assert queue["MessageRetentionPeriod"] == str(queue_properties["MessageRetentionPeriod"])
    assert queue["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"] == stack.resources.dead_letter_queue_arn
    assert redrive["maxReceiveCount"] == int(
        template.value(queue_properties["RedrivePolicy"]["maxReceiveCount"])
    )
    assert dlq["MessageRetentionPeriod"] == str(dlq_properties["MessageRetentionPeriod"])
    assert dlq["SqsManagedSseEnabled"] == "true"
    assert table["KeySchema"] == table_properties["KeySchema"]
    assert table["AttributeDefinitions"] == table_properties["AttributeDefinitions"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert ttl["AttributeName"] == table_properties["TimeToLiveSpecification"]["AttributeName"]


def test_the_function_environment_carries_every_variable_the_template_sets(stack, template):
    # Given the variables template.yaml sets for the function (globals and its own), but those its
    # conditions leave out with the parameters' defaults (the OpenTelemetry layer's)
    declared = {
        name: value
        for name, value in {
            **template.function_globals()["Environment"]["Variables"],
            **template.properties("UnsubscribeAllFunction")["Environment"]["Variables"],
        }.items()
        if not (isinstance(value, dict) and "Fn::If" in value and template.value(value) is None)
    }

    # When the stack is up
    # Then each is in the function's environment and in os.environ, pointed at the local resources
    assert set(declared) <= set(stack.environment)
    for name in declared:
        assert os.environ[name] == stack.environment[name], name
    assert os.environ["SOURCE_QUEUE_URL"] == stack.resources.queue_url
    assert os.environ["DEAD_LETTER_QUEUE_URL"] == stack.resources.dead_letter_queue_url
    assert os.environ["IDEMPOTENCY_TABLE_NAME"] == stack.resources.table_name
    assert os.environ["HUBSPOT_BASE_URL"] == stack.hubspot_base_url
    assert os.environ["AWS_ENDPOINT_URL"] == stack.moto.url
    # And the token secret holds the sandbox's token
    secret = stack.session.client("secretsmanager").get_secret_value(
        SecretId=os.environ["HUBSPOT_TOKEN_SECRET_ID"]
    )
    assert json.loads(secret["SecretString"]) == {"token": stack.hubspot_token}


def test_the_state_file_says_where_the_running_stack_is(stack):
    # Given the stack is up
    # When the CLI reads the state file
    state = json.loads(stack.options.state_file.read_text(encoding="utf-8"))

    # Then it names every endpoint of this stack
    assert state == {
        "awsEndpointUrl": stack.moto.url,
        "region": "us-east-1",
        "queueUrl": stack.resources.queue_url,
        "deadLetterQueueUrl": stack.resources.dead_letter_queue_url,
        "apiUrl": stack.api.url,
        "hubspotBaseUrl": stack.hubspot_base_url,
    }


def test_a_message_and_an_api_request_both_reach_hubspot(stack):
    # Given the running stack
    assert stack.sandbox is not None
    sqs = stack.session.client("sqs")

    # When one address is sent through the queue and another through the API
    sqs.send_message(
        QueueUrl=stack.resources.queue_url, MessageBody='{"subscriberIdString":"queued@example.com"}'
    )
    request = urllib.request.Request(  # noqa: S310 - the loopback API
        f"{stack.api.url}/unsubscribe-all",
        data=b'{"subscriberIdString":"posted@example.com"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the loopback API
        status = response.status
    drained = stack.event_source.wait_until_drained(SETTLE_TIMEOUT_S)

    # Then HubSpot unsubscribed both
    assert status == 200
    assert drained
    assert stack.sandbox.successful_unsubscribes() == {"queued@example.com": 1, "posted@example.com": 1}
    # And every AWS call the function and Lambda's polling made is one template.yaml allows
    assert stack.moto.calls.calls()
    assert stack.aws_calls_not_allowed() == []


def test_stopping_leaves_no_thread_port_file_or_variable_behind(tmp_path):
    # Given a stack that was up
    endpoint_before = os.environ.get("AWS_ENDPOINT_URL")
    stack = LocalStack(StackOptions(api_port=0, run_dir=tmp_path))
    stack.start()
    urls = [stack.moto.url, stack.api.url, stack.hubspot_base_url]
    state_file = stack.options.state_file
    assert state_file.exists()

    # When it stops
    stack.stop()

    # Then its threads are gone, its ports closed, the state file removed and the environment restored
    assert not [
        thread.name for thread in threading.enumerate() if thread.name.startswith(STACK_THREAD_PREFIXES)
    ]
    assert not [url for url in urls if accepts_connections(url)]
    assert not state_file.exists()
    assert os.environ.get("AWS_ENDPOINT_URL") == endpoint_before
    assert "SOURCE_QUEUE_URL" not in os.environ


def test_a_state_file_written_by_a_later_stack_is_left_alone(tmp_path):
    # Given a stack whose state file another (later) stack has since replaced
    stack = LocalStack(StackOptions(api_port=0, run_dir=tmp_path))
    stack.start()
    stack.options.state_file.write_text('{"apiUrl": "somewhere else"}', encoding="utf-8")

    # When the first stack stops
    stack.stop()

    # Then the other stack's file is still there
    assert stack.options.state_file.read_text(encoding="utf-8") == '{"apiUrl": "somewhere else"}'


def test_with_a_real_hubspot_token_there_is_no_sandbox_and_the_secret_holds_that_token(tmp_path):
    # Given a HubSpot token and base URL in the environment, as an operator sets them
    environ = {"HUBSPOT_TOKEN": "pat-na1-not-a-real-token", "HUBSPOT_BASE_URL": "https://hubspot.invalid"}
    options = StackOptions.from_environment(environ, api_port=0, run_dir=tmp_path)

    # When the stack starts (no invocation is made, so nothing reaches that URL)
    with LocalStack(options) as stack:
        secret = stack.session.client("secretsmanager").get_secret_value(SecretId=stack.resources.secret_id)
        environment = dict(stack.environment)
        state = json.loads(stack.options.state_file.read_text(encoding="utf-8"))

    # Then the function is pointed at that HubSpot with that token, and no sandbox ran
    assert stack.sandbox is None
    assert json.loads(secret["SecretString"]) == {"token": "pat-na1-not-a-real-token"}
    assert environment["HUBSPOT_BASE_URL"] == "https://hubspot.invalid"
    assert state["hubspotBaseUrl"] == "https://hubspot.invalid"
