"""What an enqueue tells the operator: counts, and the first rejected and repeated lines, with
addresses masked (the whole lines are in `FILE.rejected.csv`, see rejected_file.py); as lines for
people, or as one JSON document (`--json`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from operator_cli.checkpoint import path_for
from operator_cli.email_file import DuplicateLine, RejectedLine
from operator_cli.enqueue import EnqueueResult
from optout.masking import mask_email


def _masked(line: RejectedLine) -> str:
    return mask_email(line.value) if line.value else "(empty)"


def _rejected_lines(rejected: Sequence[RejectedLine], total: int) -> list[str]:
    lines = [f"  line {line.line}: {_masked(line)}: {line.reason}" for line in rejected]
    if total > len(rejected):
        lines.append(f"  ... and {total - len(rejected)} more")
    return lines


def _duplicate_lines(duplicates: Sequence[DuplicateLine], total: int) -> list[str]:
    listed = ", ".join(f"{line.line} (as line {line.first_line})" for line in duplicates)
    more = f", and {total - len(duplicates)} more" if total > len(duplicates) else ""
    return [f"  lines {listed}{more}"]


def summary(input_path: Path, result: EnqueueResult) -> list[str]:
    """Lines for people. The first rejected and repeated lines are those the result kept."""
    state = result.checkpoint
    if result.finished_before and state is not None:
        return [
            f"nothing to send: every address in {input_path} was sent ({state.messages_sent} messages, "
            f"finished {state.updated_at}).",
            "Pass --restart to send the file again (the same keys: the function runs each line once).",
        ]
    lines = []
    if result.dry_run:
        lines.append(f"dry run: nothing was sent, and {path_for(input_path).name} is unchanged")
    if result.column is not None:
        header = f", header on line {result.header_line}" if result.header_line is not None else ", no header"
        lines.append(f"read {result.column}{header}")
    lines += [
        f"would send: {result.to_send}" if result.dry_run else f"sent: {result.sent}",
        f"already sent (skipped on resume): {result.already_sent}",
        f"rejected: {result.rejected_count}",
    ]
    if result.rejected_count:
        lines += _rejected_lines(result.rejected, result.rejected_count)
    if result.rejected_path is not None:
        lines.append(f"all rejected lines, as in the file: {result.rejected_path}")
    if result.duplicate_count:
        lines.append(f"repeated addresses (sent once, from their first line): {result.duplicate_count}")
        lines += _duplicate_lines(result.duplicates, result.duplicate_count)
    return lines


def document(
    input_path: Path, result: EnqueueResult, target: str | None, queue_url: str | None
) -> dict[str, Any]:
    """The `--json` document: the same facts, named; addresses masked."""
    state = result.checkpoint
    return {
        "command": "enqueue",
        "file": str(input_path),
        "dryRun": result.dry_run,
        "target": target,
        "queueUrl": queue_url,
        "lines": result.lines,
        "column": result.column,
        "headerLine": result.header_line,
        "finishedBefore": result.finished_before,
        "toSend": result.to_send,
        "sent": result.sent,
        "alreadySent": result.already_sent,
        "rejected": result.rejected_count,
        "rejectedLines": [
            {"line": line.line, "value": _masked(line), "reason": line.reason} for line in result.rejected
        ],
        "rejectedFile": None if result.rejected_path is None else str(result.rejected_path),
        "repeated": result.duplicate_count,
        "repeatedLines": [{"line": line.line, "firstLine": line.first_line} for line in result.duplicates],
        "checkpoint": None
        if state is None
        else {
            "path": str(path_for(input_path)),
            "lastLine": state.last_line,
            "messagesSent": state.messages_sent,
            "complete": state.complete,
        },
    }
