"""Progress on stderr: a redrawn bar on a terminal, else a line at every tenth of the way."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30
REDRAW_INTERVAL_S = 0.1
LINE_STEPS = 10


class Progress:
    def __init__(
        self,
        total: int,
        label: str,
        stream: TextIO,
        *,
        interactive: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        unit: str = "",
    ) -> None:
        self._total = max(total, 0)
        self._label = label
        self._unit = f" {unit}" if unit else ""
        self._stream = stream
        self._interactive = stream.isatty() if interactive is None else interactive
        self._clock = clock
        self._started = clock()
        self._drawn_at = float("-inf")
        self._done = 0
        self._steps_reported = 0

    @property
    def done(self) -> int:
        return self._done

    def advance_to(self, done: int) -> None:
        """Moves to `done` of the total (never back)."""
        if done > self._done:
            self.advance(done - self._done)

    def advance(self, count: int) -> None:
        self._done = min(self._total, self._done + count)
        if self._interactive:
            now = self._clock()
            if now - self._drawn_at >= REDRAW_INTERVAL_S or self._done == self._total:
                self._drawn_at = now
                self._stream.write("\r" + self._bar(now))
                self._stream.flush()
        elif self._total:
            step = self._done * LINE_STEPS // self._total
            if step > self._steps_reported:
                self._steps_reported = step
                self._stream.write(f"{self._label}: {self._counts()}\n")
                self._stream.flush()

    def close(self) -> None:
        """Ends the bar's line (on a terminal); the last drawing stays on screen."""
        if self._interactive and self._drawn_at != float("-inf"):
            self._stream.write("\n")
            self._stream.flush()

    def _counts(self) -> str:
        percent = 100 * self._done // self._total if self._total else 100
        return f"{self._done}/{self._total}{self._unit} ({percent}%)"

    def _bar(self, now: float) -> str:
        filled = BAR_WIDTH * self._done // self._total if self._total else BAR_WIDTH
        elapsed = max(now - self._started, 1e-9)
        rate = self._done / elapsed
        return f"{self._label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self._counts()} {rate:.0f}/s"
