"""Where a command's words go: lines for people on stdout, or, with `--json`, one JSON document on
stdout and the lines for people on stderr (so `unsubscribe-all dlq --json | jq` reads clean JSON
while the operator still sees what happened)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


class Output:
    def __init__(
        self, prog: str, *, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self._prog = prog
        self.json_mode = json_mode
        self._stdout = stdout
        self._stderr = stderr
        self.document_written = False

    @property
    def out(self) -> TextIO:
        return self._stdout or sys.stdout

    @property
    def err(self) -> TextIO:
        """Notices and progress: stderr in either mode."""
        return self._stderr or sys.stderr

    def say(self, line: str) -> None:
        """A line for people."""
        print(line, file=self.err if self.json_mode else self.out)

    def document(self, value: Any) -> None:
        """The command's one JSON document (only with --json)."""
        if self.json_mode:
            print(json.dumps(value, ensure_ascii=False), file=self.out)
            self.document_written = True

    def error(self, message: str, exit_code: int) -> None:
        """A failure: one line on stderr, and with --json the document, when none was written yet."""
        print(f"{self._prog}: {message}", file=self.err)
        if self.json_mode and not self.document_written:
            self.document({"error": message, "exitCode": exit_code})
