"""Everything the function writes while a run lasts, kept for the leak scan.

On Lambda, the function's JSON logs and its EMF metrics both go to stdout, and so to CloudWatch
Logs; other libraries log through the root logger (WARNING and up, as on Lambda). All three are
captured here instead of printed, so the soak's terminal keeps its own report.
"""

from __future__ import annotations

import importlib
import io
import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO


class _TextHandler(logging.Handler):
    def __init__(self, sink: io.StringIO) -> None:
        super().__init__(logging.WARNING)
        self._sink = sink
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.write(self.format(record) + "\n")


class FunctionOutput:
    """Use as a context manager, once the function's code is importable (the stack is up)."""

    def __init__(self) -> None:
        self.logs = io.StringIO()
        self.stdout = io.StringIO()
        self.library_logs = io.StringIO()
        self._library_handler = _TextHandler(self.library_logs)
        self._previous_logs: TextIO | None = None
        self._previous_stdout: TextIO | None = None

    def _function_log_handler(self) -> logging.StreamHandler[TextIO]:
        # Imported late: Powertools reads its settings from the environment the stack has set.
        logger = importlib.import_module("optout.observability").logger
        handler = logger.registered_handler
        if not isinstance(handler, logging.StreamHandler):
            raise TypeError("the function's logger has no stream handler to capture")
        return handler

    def __enter__(self) -> Self:
        self._previous_logs = self._function_log_handler().setStream(self.logs)
        self._previous_stdout, sys.stdout = sys.stdout, self.stdout
        logging.getLogger().addHandler(self._library_handler)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        logging.getLogger().removeHandler(self._library_handler)
        if self._previous_stdout is not None:
            sys.stdout = self._previous_stdout
        if self._previous_logs is not None:
            self._function_log_handler().setStream(self._previous_logs)

    def keep(self, directory: Path, prefix: str) -> None:
        """Writes what was captured (addresses masked) to `directory`, to look into later."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in self.texts().items():
            (directory / f"{prefix}{name.split()[0]}.log").write_text(text, encoding="utf-8")

    def texts(self) -> dict[str, str]:
        return {
            "function logs": self.logs.getvalue(),
            "stdout (EMF metrics)": self.stdout.getvalue(),
            "library logs": self.library_logs.getvalue(),
        }
