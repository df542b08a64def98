"""HubSpot's two limits: a rolling window of calls and a daily budget that resets at midnight UTC."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Policy(StrEnum):
    """The `policyName` HubSpot puts in a 429 body."""

    TEN_SECONDLY_ROLLING = "TEN_SECONDLY_ROLLING"
    DAILY = "DAILY"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a call was refused; `retry_after_s` is None when waiting a little will not help."""

    policy: Policy
    retry_after_s: int | None


class RateLimiter:
    """Counts admitted calls; a refused call consumes nothing. Times are monotonic seconds."""

    def __init__(self, limit: int, window_ms: int, daily_limit: int) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self.daily_limit = daily_limit
        self._admitted_at: deque[float] = deque()
        self._daily_used = 0
        self._day: date | None = None

    def reconfigure(self, limit: int, window_ms: int, daily_limit: int) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self.daily_limit = daily_limit

    def admit(self, now: float, today: date) -> Rejection | None:
        """Count the call and return None, or refuse it without counting it."""
        self._roll(now, today)
        if self._daily_used >= self.daily_limit:
            return Rejection(Policy.DAILY, retry_after_s=None)
        if len(self._admitted_at) >= self.limit:
            # The oldest call this window still counts is the one whose expiry frees a slot.
            frees_at = self._admitted_at[-self.limit] + self.window_ms / 1000
            return Rejection(Policy.TEN_SECONDLY_ROLLING, retry_after_s=max(1, math.ceil(frees_at - now)))
        self._admitted_at.append(now)
        self._daily_used += 1
        return None

    def headers(self, now: float, today: date) -> dict[str, str]:
        """The X-HubSpot-RateLimit-* headers as they stand after the current call."""
        self._roll(now, today)
        return {
            "X-HubSpot-RateLimit-Max": str(self.limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.limit - len(self._admitted_at))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.window_ms),
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self._daily_used)),
        }

    def usage(self, now: float, today: date) -> dict[str, int]:
        self._roll(now, today)
        return {"windowUsed": len(self._admitted_at), "dailyUsed": self._daily_used}

    def _roll(self, now: float, today: date) -> None:
        window_start = now - self.window_ms / 1000
        while self._admitted_at and self._admitted_at[0] <= window_start:
            self._admitted_at.popleft()
        if today != self._day:
            self._day = today
            self._daily_used = 0
