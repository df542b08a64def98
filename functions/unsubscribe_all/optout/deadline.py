"""A point in time by which work must be finished, shared by every wait and HTTP call of one request."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class RemainingTime(Protocol):
    """What a Lambda context offers: the invocation's time left."""

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Deadline:
    """An absolute monotonic expiry; `remaining()` never goes below zero."""

    expires_at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def for_invocation(cls, context: RemainingTime, safety_margin_s: float) -> Deadline:
        """The invocation's remaining time minus a margin to answer before Lambda kills the run."""
        remaining_s = context.get_remaining_time_in_millis() / 1000
        return cls.after(max(0.0, remaining_s - safety_margin_s))

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def allows(self, seconds: float) -> bool:
        """Whether `seconds` of waiting still leaves time before the deadline."""
        return self.remaining() > seconds
