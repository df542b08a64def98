"""The command line itself: help, usage errors, and finding (or not finding) a target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from operator_cli import targets
from operator_cli.errors import UsageError
from operator_cli.main import main
from operator_cli.targets import Overrides, resolve_target


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no local stack above it, and no checkout's state either."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(targets.LOCAL_STATE_ENV, raising=False)
    monkeypatch.setattr(targets, "_CHECKOUT_ROOT", tmp_path)
    return tmp_path


def write_state(path: Path, **overrides: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "awsEndpointUrl": "http://127.0.0.1:4566",
        "region": "us-east-1",
        "queueUrl": "http://127.0.0.1:4566/123456789012/q",
        "deadLetterQueueUrl": "http://127.0.0.1:4566/123456789012/dlq",
        "apiUrl": "http://127.0.0.1:3000/Prod/",
        "hubspotBaseUrl": "http://127.0.0.1:8080",
    }
    path.write_text(json.dumps({**state, **overrides}))
    return path


def test_help_lists_the_commands_the_target_and_the_exit_codes(capsys):
    # When the operator asks for help
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    # Then it exits 0 and names every command, how the target is found, and the exit codes
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for command in ("enqueue", "status", "link", "dlq"):
        assert command in out
    assert "make run" in out
    assert "--stack-name" in out
    assert "exit codes: 0 done, 1 lines rejected or an operation failed, 2 usage or no target" in out


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("enqueue", ["--column", "--business-unit", "--restart", "--stack-name", "--local-state"]),
        ("status", ["--json", "--business-unit", "--api-url"]),
        ("link", ["--business-unit", "--api-url", "List-Unsubscribe"]),
        ("dlq", ["redrive", "--limit", "--dlq-url", "--queue-url"]),
    ],
)
def test_each_command_documents_its_own_and_the_target_flags(capsys, command, flags):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for flag in flags:
        assert flag in out


@pytest.mark.parametrize(
    "argv", [["dlq"], ["status", "jane@example.com"], ["link", "jane@example.com"], ["dlq", "redrive"]]
)
def test_without_a_target_the_error_says_to_start_make_run_or_name_a_stack(nowhere, capsys, argv):
    # Given no local stack running and no stack named
    # When a command needs a target
    code = main(argv)

    # Then it is a usage error that says what to do
    err = capsys.readouterr().err
    assert code == 2
    assert "no target" in err
    assert "make run" in err
    assert "--stack-name" in err


def test_enqueue_without_a_target_fails_before_touching_the_file(nowhere, capsys):
    path = nowhere / "list.txt"
    path.write_text("jane@example.com\n")
    assert main(["enqueue", str(path)]) == 2
    assert "make run" in capsys.readouterr().err
    assert not (nowhere / "list.txt.checkpoint.json").exists()


def test_a_named_local_state_file_that_is_missing_is_a_usage_error(nowhere, capsys):
    assert main(["dlq", "--local-state", str(nowhere / "gone.json")]) == 2
    assert "is `make run` running?" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["enqueue", "x.txt", "--business-unit", "-1"], "must be an integer from 0"),
        (["status", "a@x.com", "--business-unit", "x"], "must be an integer from 0"),
        # the function's own rule: a digit that is not ASCII (int("²") would fail later) is refused
        (["enqueue", "x.txt", "--business-unit", "\u00b2"], "must be an integer from 0"),
        (["enqueue", "x.txt", "--business-unit", "9" * 20], "must be an integer from 0"),
        (["dlq", "--limit", "0"], "must be a whole number from 1"),
        (["dlq", "--limit", "\u00b2"], "must be a whole number from 1"),
        (["dlq", "--limit", "9" * 5000], "must be a whole number from 1"),
        (["dlq", "purge"], "invalid choice"),
    ],
)
def test_malformed_arguments_exit_2_with_argparses_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_status_of_something_that_is_not_an_address_is_refused_before_any_request(nowhere, capsys):
    assert main(["status", "jane at example.com"]) == 2
    assert "not an email address" in capsys.readouterr().err


def test_enqueue_of_a_missing_file_is_a_usage_error(nowhere, capsys):
    assert main(["enqueue", str(nowhere / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_local_state_is_found_in_a_parent_folder_with_dummy_credentials(nowhere, monkeypatch):
    # Given make run's state at the top of the tree, and the operator two folders down
    state = write_state(nowhere / ".run" / "local-stack.json")
    (nowhere / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(nowhere / "a" / "b")
    monkeypatch.setenv("AWS_PROFILE", "production")

    # When the target is resolved
    target = resolve_target(stack_name=None, region=None, local_state=None, overrides=Overrides())

    # Then it is the local stack, reached with dummy credentials whatever the profile
    assert target.description == f"local stack ({state})"
    assert (target.endpoint_url, target.region) == ("http://127.0.0.1:4566", "us-east-1")
    assert target.credentials().access_key == "testing"
    assert target.require_dead_letter_queue_url() == "http://127.0.0.1:4566/123456789012/dlq"


def test_the_environment_variable_names_the_state_and_explicit_urls_override_it(nowhere, monkeypatch):
    state = write_state(nowhere / "elsewhere.json")
    monkeypatch.setenv(targets.LOCAL_STATE_ENV, str(state))
    target = resolve_target(
        stack_name=None, region=None, local_state=None, overrides=Overrides(queue_url="http://other/q")
    )
    assert target.queue_url == "http://other/q"
    assert target.api_url == "http://127.0.0.1:3000/Prod/"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{oops", "not valid JSON"),
        ("[1]", "does not hold a JSON object"),
        (None, "awsEndpointUrl is missing"),
    ],
)
def test_a_damaged_local_state_is_a_usage_error(nowhere, content, message):
    path = nowhere / "state.json"
    if content is None:
        write_state(path, awsEndpointUrl=None)
    else:
        path.write_text(content)
    with pytest.raises(UsageError, match=message):
        resolve_target(stack_name=None, region=None, local_state=str(path), overrides=Overrides())


def test_explicit_urls_alone_use_the_usual_aws_session(nowhere):
    target = resolve_target(
        stack_name=None,
        region="eu-west-1",
        local_state=None,
        overrides=Overrides(dead_letter_queue_url="https://d"),
    )
    assert (target.description, target.region, target.endpoint_url) == (
        "AWS (explicit URLs)",
        "eu-west-1",
        None,
    )
    with pytest.raises(UsageError, match="pass --queue-url"):
        target.require_queue_url()


def test_a_dry_run_needs_no_target_and_reaches_no_aws_api(nowhere, capsys):
    # Given no local stack and no stack named, and a list with a bad line and a repeat
    path = nowhere / "leavers.txt"
    path.write_text("jane@example.com\nnot an address\nJANE@example.com\nbob@example.org\n")

    # When it is enqueued as a dry run
    code = main(["enqueue", str(path), "--dry-run"])

    # Then it is read and reported, nothing is sent, and no checkpoint is written
    output = capsys.readouterr()
    assert code == 1
    assert "would send: 2" in output.out
    assert "rejected: 1" in output.out
    assert "lines 3 (as line 1)" in output.out
    assert "no AWS API is called" in output.err
    assert not path.with_name("leavers.txt.checkpoint.json").exists()
    assert path.with_name("leavers.txt.rejected.csv").is_file()


def test_with_json_a_failure_is_a_json_document_too(nowhere, capsys):
    # Given no target, When a command runs with --json
    code = main(["dlq", "--json"])

    # Then stdout holds one JSON document with the error and the exit code, stderr the message
    output = capsys.readouterr()
    assert code == 2
    assert json.loads(output.out) == {"error": json.loads(output.out)["error"], "exitCode": 2}
    assert json.loads(output.out)["error"].startswith("no target")
    assert output.err.startswith("unsubscribe-all: no target")


@pytest.mark.parametrize(
    "command", [["enqueue", "x.txt"], ["status", "jane@example.com"], ["dlq"], ["dlq", "redrive"]]
)
def test_every_command_takes_json_and_profile(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "--json" in out
    assert "--profile" in out


@pytest.fixture
def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config file with a profile `ops` in eu-west-2, and its own credentials."""
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile ops]\nregion = eu-west-2\naws_access_key_id = ops-key\naws_secret_access_key = ops-secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in (
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    return config


def test_profile_gives_the_credentials_and_region_and_is_never_the_local_stack(nowhere, aws_config):
    # Given a running local stack, and a profile `ops`
    write_state(nowhere / ".run" / "local-stack.json")
    queue_url = "https://sqs.eu-west-2.amazonaws.com/123456789012/leavers"

    # When the target is resolved with --profile ops and a queue URL
    target = resolve_target(
        stack_name=None,
        region=None,
        profile="ops",
        local_state=None,
        overrides=Overrides(queue_url=queue_url),
    )

    # Then AWS is reached with the profile's credentials and region, not the local stack
    assert target.region == "eu-west-2"
    assert target.credentials().access_key == "ops-key"
    assert target.endpoint_url is None
    assert target.queue_url == queue_url
    assert "profile ops" in target.description
    # And --region still wins over the profile's
    other = resolve_target(
        stack_name=None,
        region="us-west-1",
        profile="ops",
        local_state=None,
        overrides=Overrides(queue_url=queue_url),
    )
    assert other.region == "us-west-1"


def test_an_unknown_profile_is_a_usage_error(nowhere, aws_config, capsys):
    assert main(["dlq", "--profile", "nope", "--dlq-url", "https://sqs.eu-west-2.amazonaws.com/1/d"]) == 2
    assert "nope" in capsys.readouterr().err
