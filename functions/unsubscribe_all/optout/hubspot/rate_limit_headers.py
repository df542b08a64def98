"""HubSpot's rate-limit headers and `Retry-After`, read defensively.

None of these headers is promised on every answer, and a proxy or a fault can send anything:
`inf`, `nan`, negative or huge numbers, dates far away. A value outside what HubSpot could mean is
treated as absent; a wait is always a finite number of seconds from 0 to a day.

Examples:
    >>> retry_after_seconds({"Retry-After": "inf"})
    86400.0
    >>> retry_after_seconds({"Retry-After": "-3"})
    0.0
    >>> RateLimitWindow.from_headers({"X-HubSpot-RateLimit-Max": "190",
    ...     "X-HubSpot-RateLimit-Remaining": "12", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    RateLimitWindow(limit=190, remaining=12, interval_s=10.0)
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

MAX_WAIT_S = 86_400.0
# Longer than any HubSpot header could hold; bounds int() before it converts.
_MAX_DIGITS = 12


def _bounded_int(headers: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    value = (headers.get(name) or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_DIGITS:
        return None
    number = int(value)
    return number if low <= number <= high else None


def clamp_wait(seconds: float) -> float:
    """A wait of 0 to a day: NaN and negatives are 0, infinity and anything longer a day."""
    if math.isnan(seconds):
        return 0.0
    return min(MAX_WAIT_S, max(0.0, seconds))


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None or len(value) > 64:
        return None
    value = value.strip()
    try:
        return clamp_wait(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return clamp_wait(when.timestamp() - (time.time() if now is None else now))


def interval_seconds(headers: Mapping[str, str]) -> float | None:
    milliseconds = _bounded_int(
        headers, "X-HubSpot-RateLimit-Interval-Milliseconds", 1, int(MAX_WAIT_S * 1000)
    )
    return milliseconds / 1000 if milliseconds is not None else None


@dataclass(frozen=True, slots=True)
class RateLimitWindow:
    """The rolling window's headers of one answer: its size, what is left, how long it is."""

    limit: int
    remaining: int
    interval_s: float

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitWindow | None:
        limit = _bounded_int(headers, "X-HubSpot-RateLimit-Max", 1, 1_000_000)
        interval = interval_seconds(headers)
        if limit is None or interval is None:
            return None
        remaining = _bounded_int(headers, "X-HubSpot-RateLimit-Remaining", 0, limit)
        return None if remaining is None else cls(limit, remaining, interval)


@dataclass(frozen=True, slots=True)
class DailyBudget:
    """The daily budget's headers (private-app tokens only): its size and what is left today."""

    limit: int
    remaining: int

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> DailyBudget | None:
        limit = _bounded_int(headers, "X-HubSpot-RateLimit-Daily", 1, 1_000_000_000)
        if limit is None:
            return None
        remaining = _bounded_int(headers, "X-HubSpot-RateLimit-Daily-Remaining", 0, limit)
        return None if remaining is None else cls(limit, remaining)
