"""`unsubscribe-all enqueue` against moto over HTTP: once, resumed, refused, and its reports."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from local.aws.moto_endpoint import MotoEndpoint
from operator_cli.batch_sender import BatchSender
from operator_cli.email_file import Address
from operator_cli.enqueue import EnqueueOptions, enqueue_file
from operator_cli.errors import OperationError
from operator_cli.main import main
from tests.integration.test_cli_support import queued_bodies, write_local_state

BAD_ROWS = {
    17: "no-at-sign.example.com",
    123: "two@@example.com",
    400: "space in@example.com",
    401: "",
    777: "trailing-dot@example.",
    999: 'quote"d@example.com',
}


def key_prefix(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def write_csv(folder: Path, rows: int) -> tuple[Path, dict[int, str], set[int]]:
    """Data rows under a header; returns the path, good addresses by line, and the bad lines."""
    path = folder / "leavers.csv"
    good: dict[int, str] = {}
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["name", "Email", "left_on"])
        for row in range(1, rows + 1):
            line = row + 1  # the header is line 1
            email = BAD_ROWS.get(row, f"Person.{row}@Example.com")
            writer.writerow([f"Person {row}", email, "2026-11-26"])
            if row not in BAD_ROWS:
                good[line] = email
    return path, good, {row + 1 for row in BAD_ROWS if row <= rows}


@pytest.fixture
def local_state(function_stack, moto_endpoint: MotoEndpoint, tmp_path: Path) -> Path:
    return write_local_state(tmp_path, moto_endpoint.url, function_stack.resources)


def enqueue(path: Path, local_state: Path, *flags: str) -> int:
    return main(["enqueue", str(path), "--local-state", str(local_state), *flags])


@pytest.mark.slow
def test_a_thousand_row_csv_is_enqueued_once_and_bad_lines_are_reported_by_number(
    function_stack, local_state, tmp_path, capsys
):
    # Given a CSV of 1,000 rows under a header, six of them bad
    path, good, bad_lines = write_csv(tmp_path, 1000)

    # When it is enqueued
    code = enqueue(path, local_state)

    # Then exactly the good rows are on the queue, each keyed by file digest and line
    output = capsys.readouterr()
    messages = queued_bodies(function_stack.resources.queue_url)
    prefix = key_prefix(path)
    assert len(messages) == 1000 - len(BAD_ROWS)
    assert {m["idempotencyKey"]: m["subscriberIdString"] for m in messages} == {
        f"{prefix}:{line}": email for line, email in good.items()
    }
    assert all("businessUnitId" not in message for message in messages)
    # And the bad lines are reported by number, their addresses masked, and the exit code says so
    assert code == 1
    assert "sent: 994" in output.out
    assert "rejected: 6" in output.out
    for line in bad_lines:
        assert f"line {line}:" in output.out
    assert "line 124: t***@example.com: the address has more than one @" in output.out
    assert "two@@example.com" not in output.out
    # And the rejected lines stand whole in FILE.rejected.csv, to be fixed
    with path.with_name("leavers.csv.rejected.csv").open(encoding="utf-8", newline="") as stream:
        rejected = list(csv.DictReader(stream))
    assert [int(row["line"]) for row in rejected] == sorted(bad_lines)
    assert rejected[1]["original"] == "Person 123,two@@example.com,2026-11-26"
    # And progress, in the file's lines, went to stderr as periodic lines (stderr is not a terminal)
    assert "enqueue leavers.csv: 101/1001 lines (10%)" in output.err
    assert "enqueue leavers.csv: 1001/1001 lines (100%)" in output.err


def test_a_rerun_after_the_file_was_sent_sends_nothing_and_says_so(
    function_stack, local_state, tmp_path, capsys
):
    # Given a file that was enqueued to the end
    path, good, _ = write_csv(tmp_path, 150)
    enqueue(path, local_state)
    capsys.readouterr()

    # When the same command runs again
    code = enqueue(path, local_state)

    # Then nothing more is sent, and the operator is told why
    assert code == 0
    assert "nothing to send" in capsys.readouterr().out
    assert len(queued_bodies(function_stack.resources.queue_url)) == len(good)


class SimulatedCrashError(Exception):
    """Raised where the process would die: after SQS took a batch, before the checkpoint."""


def crash_after(batches: int):
    seen: list[Sequence[Address]] = []

    def hook(batch: Sequence[Address]) -> None:
        seen.append(batch)
        if len(seen) == batches:
            raise SimulatedCrashError

    return hook


def test_a_run_that_crashed_half_way_is_resumed_losing_nothing_and_repeating_one_batch_at_most(
    function_stack, local_state, tmp_path, capsys
):
    # Given a run of 298 addresses that died after SQS took its 15th batch, before checkpointing it
    path, good, _ = write_csv(tmp_path, 300)
    queue_url = function_stack.resources.queue_url
    sender = BatchSender(function_stack.session.client("sqs"), queue_url)
    with pytest.raises(SimulatedCrashError):
        enqueue_file(
            EnqueueOptions(path, queue_url),
            sender,
            progress_stream=io.StringIO(),
            on_acknowledged=crash_after(15),
        )
    checkpoint = json.loads(path.with_name("leavers.csv.checkpoint.json").read_text())
    assert checkpoint["messages_sent"] == 140
    assert checkpoint["complete"] is False

    # When the command is run again
    code = enqueue(path, local_state)

    # Then it sends only the rest: every address is on the queue, and only batch 15 twice
    output = capsys.readouterr().out
    assert code == 1  # the bad lines are still reported
    assert "already sent (skipped on resume): 140" in output
    assert "sent: 158" in output
    messages = queued_bodies(queue_url)
    keys = Counter(message["idempotencyKey"] for message in messages)
    prefix = key_prefix(path)
    assert set(keys) == {f"{prefix}:{line}" for line in good}
    repeated = {key for key, count in keys.items() if count > 1}
    assert len(repeated) == 10
    assert all(keys[key] == 2 for key in repeated)
    # And a repeated message is the same message: same key, same address
    by_key: dict[str, set[str]] = {}
    for message in messages:
        by_key.setdefault(message["idempotencyKey"], set()).add(json.dumps(message, sort_keys=True))
    assert all(len(by_key[key]) == 1 for key in repeated)


def test_a_run_whose_endpoint_goes_away_stops_with_a_checkpoint_and_the_rerun_sends_the_rest(
    function_stack, local_state, tmp_path, capsys
):
    # Given a second moto endpoint onto the same (in-process) queues, stopped after 10 batches
    path, good, _ = write_csv(tmp_path, 300)
    queue_url = function_stack.resources.queue_url
    doomed = MotoEndpoint()
    doomed.start()
    try:
        client = boto3.client(
            "sqs",
            endpoint_url=doomed.url,
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        acknowledged: list[Sequence[Address]] = []

        def stop_after_10(batch: Sequence[Address]) -> None:
            acknowledged.append(batch)
            if len(acknowledged) == 10:
                doomed.stop()

        # When a run goes through it
        with pytest.raises(OperationError) as failure:
            enqueue_file(
                EnqueueOptions(path, queue_url),
                BatchSender(client, queue_url),
                progress_stream=io.StringIO(),
                on_acknowledged=stop_after_10,
            )
    finally:
        doomed.stop()

    # Then it stops with a clear error naming the checkpoint and the last line sent
    last_line = acknowledged[-1][-1].line
    assert f"every address up to line {last_line}" in str(failure.value)
    assert "run the same command again" in str(failure.value)

    # And the re-run through the live endpoint sends exactly the rest
    assert enqueue(path, local_state) == 1
    assert "already sent (skipped on resume): 100" in capsys.readouterr().out
    keys = Counter(message["idempotencyKey"] for message in queued_bodies(queue_url))
    assert set(keys) == {f"{key_prefix(path)}:{line}" for line in good}
    assert max(keys.values()) == 1


def test_a_changed_file_is_refused_without_restart_and_sent_afresh_with_it(
    function_stack, local_state, tmp_path, capsys
):
    # Given a text file that was enqueued, then edited
    path = tmp_path / "leavers.txt"
    path.write_text("a@example.com\nb@example.com\n", encoding="utf-8")
    assert enqueue(path, local_state) == 0
    path.write_text("a@example.com\nb@example.com\nc@example.com\n", encoding="utf-8")
    capsys.readouterr()

    # When it is enqueued again without --restart
    refused = enqueue(path, local_state)

    # Then it is refused as a usage error, and nothing is sent
    assert refused == 2
    assert "has changed since it was enqueued" in capsys.readouterr().err
    assert len(queued_bodies(function_stack.resources.queue_url)) == 2

    # When it is enqueued with --restart
    assert enqueue(path, local_state, "--restart") == 0

    # Then every line goes again, under the new file's keys
    prefix = key_prefix(path)
    resent = queued_bodies(function_stack.resources.queue_url)[2:]
    assert sorted(m["idempotencyKey"] for m in resent) == [f"{prefix}:{line}" for line in (1, 2, 3)]


def test_a_text_file_skips_comments_and_blank_lines_and_carries_the_business_unit(
    function_stack, local_state, tmp_path, capsys
):
    # Given a text file with a comment, blank lines and padded addresses
    path = tmp_path / "leavers.txt"
    path.write_text("# leavers, November\n\n  jane@example.com  \r\n\t\nbob@example.org\n", encoding="utf-8")

    # When it is enqueued for business unit 7
    code = enqueue(path, local_state, "--business-unit", "7")

    # Then each address goes once, keyed by its business unit and its own line
    assert code == 0
    prefix = key_prefix(path)
    assert sorted(queued_bodies(function_stack.resources.queue_url), key=lambda m: m["idempotencyKey"]) == [
        {"subscriberIdString": "jane@example.com", "idempotencyKey": f"{prefix}:bu7:3", "businessUnitId": 7},
        {"subscriberIdString": "bob@example.org", "idempotencyKey": f"{prefix}:bu7:5", "businessUnitId": 7},
    ]
    # And a run for another business unit needs --restart, then goes under that unit's keys
    capsys.readouterr()
    assert enqueue(path, local_state, "--business-unit", "8") == 2
    assert "pass --restart" in capsys.readouterr().err
    assert enqueue(path, local_state, "--business-unit", "8", "--restart") == 0
    keys = sorted(m["idempotencyKey"] for m in queued_bodies(function_stack.resources.queue_url)[2:])
    assert keys == [f"{prefix}:bu8:3", f"{prefix}:bu8:5"]


def test_the_column_can_be_chosen_by_name_in_a_csv_with_several_address_columns(
    function_stack, local_state, tmp_path, capsys
):
    # Given a semicolon CSV whose first address column is not the one wanted
    path = tmp_path / "contacts.csv"
    path.write_text("Owner;Contact\nboss@example.com;jane@example.com\nboss@example.com;bob@example.org\n")

    # When the column is named
    code = enqueue(path, local_state, "--column", "contact")

    # Then that column's addresses are sent, and the report says which column was read
    assert code == 0
    assert "read column 2 (Contact), header on line 1" in capsys.readouterr().out
    sent = queued_bodies(function_stack.resources.queue_url)
    assert sorted(m["subscriberIdString"] for m in sent) == ["bob@example.org", "jane@example.com"]
    # And the same file read from another column is refused, even with --restart: its keys are taken
    assert enqueue(path, local_state, "--column", "owner", "--restart") == 2
    assert "reading column 2 (Contact), not column 1 (Owner)" in capsys.readouterr().err
    assert len(queued_bodies(function_stack.resources.queue_url)) == 2


def test_a_dry_run_reports_what_would_be_sent_and_sends_nothing(
    function_stack, local_state, tmp_path, capsys
):
    # Given a CSV of 200 rows, a repeat and bad rows among them, half of it sent by an earlier run
    path, good, bad_lines = write_csv(tmp_path, 200)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("Again,PERSON.5@example.com,2026-11-26\n")
    queue_url = function_stack.resources.queue_url
    sender = BatchSender(function_stack.session.client("sqs"), queue_url)
    with pytest.raises(SimulatedCrashError):
        enqueue_file(EnqueueOptions(path, queue_url), sender, io.StringIO(), on_acknowledged=crash_after(11))
    checkpoint_path = path.with_name("leavers.csv.checkpoint.json")
    checkpoint_before = checkpoint_path.read_text()
    sent_before = len(queued_bodies(queue_url))
    capsys.readouterr()

    # When a dry run reads it, as JSON
    code = enqueue(path, local_state, "--dry-run", "--json")

    # Then nothing was sent and the checkpoint is unchanged
    output = capsys.readouterr()
    assert len(queued_bodies(queue_url)) == sent_before == 110
    assert checkpoint_path.read_text() == checkpoint_before
    # And stdout is one JSON document: what would be sent after the checkpoint, repeats and rejects
    document = json.loads(output.out)
    assert code == 1  # rejected lines, as a real run would say
    assert document["dryRun"] is True
    assert (document["alreadySent"], document["toSend"], document["sent"]) == (100, len(good) - 100, 0)
    assert document["rejected"] == len(bad_lines)
    assert [line["line"] for line in document["rejectedLines"]] == sorted(bad_lines)
    assert "two@@example.com" not in output.out
    assert (document["repeated"], document["repeatedLines"]) == (1, [{"line": 202, "firstLine": 6}])
    assert document["checkpoint"]["lastLine"] == sorted(good)[99]
    # And the text for people went to stderr, saying it was a dry run
    assert "dry run: nothing was sent" in output.err
    assert f"would send: {len(good) - 100}" in output.err


def test_with_json_an_enqueue_prints_one_document_on_stdout_and_the_text_on_stderr(
    function_stack, local_state, tmp_path, capsys
):
    # Given a text file of three addresses, one of them bad
    path = tmp_path / "leavers.txt"
    path.write_text("jane@example.com\nnot an address\nbob@example.org\n", encoding="utf-8")

    # When it is enqueued with --json
    code = enqueue(path, local_state, "--json")

    # Then stdout is exactly one JSON document saying what was sent, with the checkpoint
    output = capsys.readouterr()
    (document,) = [json.loads(line) for line in output.out.splitlines()]
    assert code == 1
    assert (document["command"], document["sent"], document["rejected"]) == ("enqueue", 2, 1)
    assert document["queueUrl"] == function_stack.resources.queue_url
    assert document["rejectedFile"] == str(path.with_name("leavers.txt.rejected.csv"))
    assert document["checkpoint"] == {
        "path": str(path.with_name("leavers.txt.checkpoint.json")),
        "lastLine": 3,
        "messagesSent": 2,
        "complete": True,
    }
    # And the report for people is on stderr
    assert "sent: 2" in output.err
    assert len(queued_bodies(function_stack.resources.queue_url)) == 2


def test_the_checkpoint_is_written_as_batches_go_at_most_every_interval_and_when_the_run_ends(
    function_stack, tmp_path
):
    # Given 60 addresses (six batches), and a clock that moves 0.4 s with every batch SQS takes
    path = tmp_path / "leavers.txt"
    path.write_text("".join(f"person.{n}@example.com\n" for n in range(1, 61)), encoding="utf-8")
    checkpoint_path = path.with_name("leavers.txt.checkpoint.json")
    now = [0.0]
    on_disk: list[int] = []

    def acknowledged(batch: Sequence[Address]) -> None:
        on_disk.append(json.loads(checkpoint_path.read_text())["messages_sent"])
        now[0] += 0.4

    # When it is enqueued with a checkpoint interval of 1 s
    queue_url = function_stack.resources.queue_url
    result = enqueue_file(
        EnqueueOptions(path, queue_url),
        BatchSender(function_stack.session.client("sqs"), queue_url),
        io.StringIO(),
        on_acknowledged=acknowledged,
        clock=lambda: now[0],
        checkpoint_interval_s=1.0,
    )

    # Then the file lagged SQS by less than the interval (rewritten once 1 s had passed), and the
    # run's end wrote the whole of it
    assert on_disk == [0, 0, 0, 30, 30, 30]
    assert json.loads(checkpoint_path.read_text())["messages_sent"] == 60
    assert result.checkpoint is not None and result.checkpoint.complete
