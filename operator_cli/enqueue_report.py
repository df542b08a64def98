"""What an enqueue tells the operator: counts, and the first rejected and repeated lines, with
addresses masked (the whole lines are in `FILE.rejected.csv`, see rejected_file.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from operator_cli.email_file import DuplicateLine, RejectedLine
from operator_cli.enqueue import EnqueueResult
from optout.masking import mask_email


def _rejected_lines(rejected: Sequence[RejectedLine], shown: int) -> list[str]:
    lines = [
        f"  line {line.line}: {mask_email(line.value) if line.value else '(empty)'}: {line.reason}"
        for line in rejected[:shown]
    ]
    if len(rejected) > shown:
        lines.append(f"  ... and {len(rejected) - shown} more")
    return lines


def _duplicate_lines(duplicates: Sequence[DuplicateLine], shown: int) -> list[str]:
    listed = ", ".join(f"{line.line} (as line {line.first_line})" for line in duplicates[:shown])
    more = f", and {len(duplicates) - shown} more" if len(duplicates) > shown else ""
    return [f"  lines {listed}{more}"]


def summary(input_path: Path, result: EnqueueResult, *, shown: int = 20) -> list[str]:
    state = result.checkpoint
    if result.finished_before:
        return [
            f"nothing to send: every address in {input_path} was sent ({state.messages_sent} messages, "
            f"finished {state.updated_at}).",
            "Pass --restart to send the file again (the same keys: the function runs each line once).",
        ]
    lines = []
    if result.column is not None:
        header = f", header on line {result.header_line}" if result.header_line is not None else ", no header"
        lines.append(f"read {result.column}{header}")
    lines += [
        f"sent: {result.sent}",
        f"already sent (skipped on resume): {result.already_sent}",
        f"rejected: {len(result.rejected)}",
    ]
    if result.rejected:
        lines += _rejected_lines(result.rejected, shown)
    if result.rejected_path is not None:
        lines.append(f"all rejected lines, as in the file: {result.rejected_path}")
    if result.duplicates:
        lines.append(f"repeated addresses (sent once, from their first line): {len(result.duplicates)}")
        lines += _duplicate_lines(result.duplicates, shown)
    return lines
