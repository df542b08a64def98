"""`FILE.rejected.csv` beside the input: every rejected line as it stands in the file, with its
number and the reason, so it can be fixed (it holds whole addresses: it is the operator's file)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from operator_cli.email_file import RejectedLine

SUFFIX = ".rejected.csv"
COLUMNS = ("line", "reason", "original")


def path_for(input_path: Path) -> Path:
    return input_path.with_name(input_path.name + SUFFIX)


def write(input_path: Path, rejected: Sequence[RejectedLine]) -> Path | None:
    """Writes the file (or removes a stale one when nothing is rejected); returns its path."""
    path = path_for(input_path)
    if not rejected:
        path.unlink(missing_ok=True)
        return None
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        writer.writerows((line.line, line.reason, line.original) for line in rejected)
    return path
