"""`--stack-name`: the target read from a stack's CloudFormation Outputs (moto's CloudFormation,
reached like AWS through the usual environment: the `aws` fixture's)."""

from __future__ import annotations

import json
import uuid

from operator_cli.main import main
from tests.integration.test_cli_support import queued_bodies


def create_stack(aws, outputs: dict[str, str], name: str | None = None) -> str:
    name = name or f"cli-{uuid.uuid4().hex[:10]}"
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{name}-x"}}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    aws.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


def test_a_deployed_stack_is_found_by_name_and_its_outputs_are_used(function_stack, aws, tmp_path, capsys):
    # Given a stack whose Outputs name the function's queues
    resources = function_stack.resources
    stack = create_stack(
        aws,
        {
            "QueueUrl": resources.queue_url,
            "DeadLetterQueueUrl": resources.dead_letter_queue_url,
            "ApiUrl": "https://abc.execute-api.us-east-1.amazonaws.com/Prod/",
        },
        # The stack the function's resources belong to: the operator's permissions are on it.
        name=resources.stack_name,
    )
    path = tmp_path / "list.txt"
    path.write_text("jane@example.com\n")

    # When the operator enqueues a file and lists the DLQ naming only the stack
    enqueued = main(["enqueue", str(path), "--stack-name", stack])
    listed = main(["dlq", "--stack-name", stack])

    # Then both used the stack's queues
    captured = capsys.readouterr()
    assert (enqueued, listed) == (0, 0)
    assert f"stack {stack} (us-east-1)" in captured.err
    assert [body["subscriberIdString"] for body in queued_bodies(resources.queue_url)] == ["jane@example.com"]
    assert "0 dead-lettered message(s)" in captured.out


def test_a_stack_without_the_output_a_command_needs_says_which_flag_supplies_it(aws, capsys):
    # Given a stack with no DeadLetterQueueUrl output
    stack = create_stack(aws, {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"})

    # When the DLQ is listed, then the usage error names the flag
    assert main(["dlq", "--stack-name", stack]) == 2
    assert "no dead-letter queue URL: pass --dlq-url" in capsys.readouterr().err


def test_a_stack_that_does_not_exist_is_a_usage_error(aws, capsys):
    assert main(["dlq", "--stack-name", "no-such-stack"]) == 2
    assert "cannot read stack no-such-stack in us-east-1" in capsys.readouterr().err


def test_a_deployed_stack_is_read_with_the_named_profile(function_stack, aws, tmp_path, monkeypatch, capsys):
    # Given a stack naming the function's DLQ, and a profile `ops` whose region is the stack's
    stack = create_stack(aws, {"DeadLetterQueueUrl": function_stack.resources.dead_letter_queue_url})
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile ops]\nregion = us-east-1\naws_access_key_id = ops\naws_secret_access_key = ops\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)

    # When the DLQ is listed naming the stack and the profile (and no region)
    code = main(["dlq", "--stack-name", stack, "--profile", "ops", "--json"])

    # Then the profile's region found the stack, and its DLQ was listed
    output = capsys.readouterr()
    assert code == 0, output.err
    assert json.loads(output.out)["deadLetterQueueUrl"] == function_stack.resources.dead_letter_queue_url
