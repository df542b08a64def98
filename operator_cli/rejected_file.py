"""`FILE.rejected.csv` beside the input: every rejected line as it stands in the file, with its
number and the reason, so it can be fixed (it holds whole addresses: it is the operator's file).

Written as the lines are read, so a file of any length is never held in memory; a run that stops
early leaves the rejected lines of the part it read, and the next run writes it afresh.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from operator_cli.email_file import RejectedLine

SUFFIX = ".rejected.csv"
COLUMNS = ("line", "reason", "original")


def path_for(input_path: Path) -> Path:
    return input_path.with_name(input_path.name + SUFFIX)


class RejectedFile:
    """Opened on the first rejected line; closing removes a stale file when there was none."""

    def __init__(self, input_path: Path) -> None:
        self.path = path_for(input_path)
        self.count = 0
        self._stream: TextIO | None = None
        self._writer: Any = None  # the csv module's writer type is private

    def add(self, rejected: RejectedLine) -> None:
        if self._stream is None:
            self._stream = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._stream)
            self._writer.writerow(COLUMNS)
        self._writer.writerow((rejected.line, rejected.reason, rejected.original))
        self.count += 1

    def close(self) -> Path | None:
        """The file's path, or None when no line was rejected (and no file is left)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if not self.count:
            self.path.unlink(missing_ok=True)
            return None
        return self.path

    def __enter__(self) -> RejectedFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
