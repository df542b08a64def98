"""Keeps one process's HubSpot calls inside the account's rolling rate-limit window.

HubSpot counts calls per app and account in a rolling window (190 per 10 s for most accounts)
and reports, on every answer, the window's size and how many calls are left in it. Several
Lambda containers share that budget without talking to each other, so each one paces itself
from what HubSpot tells it:

- a call may start while the last `Remaining` seen, less the calls this process started since,
  stays above a reserve: the calls other containers may have in flight and acting on the same
  figure (half as many again, for safety), and at least 5 % of the limit;
- when the window is full, a call may reuse a slot this process used itself once that call has
  left the window (its completion time plus the window length), so every container keeps the
  share it already had and the window stays full without overshooting;
- after a 429 every thread of the process waits out `Retry-After` together, instead of each
  finding the limit on its own.

Until HubSpot has sent its rate-limit headers there is nothing to pace by and calls go ahead.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from optout.deadline import Deadline


@dataclass(frozen=True, slots=True)
class RateLimitWindow:
    """The rate-limit headers of one HubSpot answer."""

    limit: int
    remaining: int
    interval_s: float

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimitWindow | None:
        try:
            return cls(
                limit=int(headers["X-HubSpot-RateLimit-Max"]),
                remaining=int(headers["X-HubSpot-RateLimit-Remaining"]),
                interval_s=int(headers["X-HubSpot-RateLimit-Interval-Milliseconds"]) / 1000,
            )
        except (KeyError, ValueError):
            return None


class SlotWaitTooLongError(Exception):
    """No call slot frees up before the deadline; `wait_s` is how long one would take."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"no HubSpot rate-limit slot within the time left (next in {wait_s:.2f}s)")
        self.wait_s = wait_s


@dataclass
class CallSlot:
    """A call in progress; the caller sets `headers` from HubSpot's answer, if one came."""

    headers: Mapping[str, str] | None = None


class RateLimitPacer:
    def __init__(
        self,
        others_in_flight: int = 0,
        reserve_fraction: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`others_in_flight`: how many calls the other containers sharing the account's limit
        may have in flight at once (their number times their concurrency)."""
        self._others_in_flight = others_in_flight
        self._reserve_fraction = reserve_fraction
        self._clock = clock
        self._changed = threading.Condition()
        self._window: RateLimitWindow | None = None
        self._seen_at = 0.0
        self._started_since_seen = 0
        self._in_flight = 0
        self._own_completions: deque[float] = deque()
        self._blocked_until = 0.0

    @contextmanager
    def slot(self, deadline: Deadline, max_wait_s: float) -> Iterator[CallSlot]:
        """Waits for a call slot (see `acquire`) and holds it for the call."""
        self.acquire(deadline, max_wait_s)
        slot = CallSlot()
        try:
            yield slot
        finally:
            self.release(slot.headers)

    def acquire(self, deadline: Deadline, max_wait_s: float) -> None:
        """Blocks until a call may start; raises SlotWaitTooLongError rather than wait past the
        deadline or longer than `max_wait_s` (a caller with a queue behind it retries later)."""
        with self._changed:
            while (wait := self._wait_or_take(self._clock())) > 0:
                if wait > max_wait_s or not deadline.allows(wait):
                    raise SlotWaitTooLongError(wait)
                self._changed.wait(wait)

    def release(self, headers: Mapping[str, str] | None) -> None:
        """Records the end of a call started with `acquire`, and what HubSpot said of the window."""
        with self._changed:
            now = self._clock()
            self._in_flight -= 1
            self._own_completions.append(now)
            window = RateLimitWindow.from_headers(headers) if headers is not None else None
            if window is not None:
                self._window = window
                self._seen_at = now
                # Calls still in flight may not be in HubSpot's count yet: assume they are not.
                self._started_since_seen = self._in_flight
            self._changed.notify_all()

    def pause(self, seconds: float) -> None:
        """Makes every caller wait `seconds` (HubSpot answered 429 with that Retry-After)."""
        with self._changed:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def _wait_or_take(self, now: float) -> float:
        """Takes a slot and returns 0, or returns how long until one may free up."""
        if self._blocked_until > now:
            return self._blocked_until - now
        window = self._window
        if (
            window is None
            # A figure a whole window old says nothing any more: one call fetches a fresh one.
            or now - self._seen_at >= window.interval_s
            or self._available(window, now) > self._reserve(window)
        ):
            self._started_since_seen += 1
            self._in_flight += 1
            return 0.0
        next_own_slot = next(
            (
                done + window.interval_s - now
                for done in self._own_completions
                if done + window.interval_s > now
            ),
            math.inf,
        )
        return min(next_own_slot, self._seen_at + window.interval_s - now)

    def _reserve(self, window: RateLimitWindow) -> int:
        wanted = max(int(window.limit * self._reserve_fraction), math.ceil(1.5 * self._others_in_flight))
        return min(wanted, window.limit // 2)

    def _available(self, window: RateLimitWindow, now: float) -> int:
        while self._own_completions and self._own_completions[0] + window.interval_s <= self._seen_at:
            self._own_completions.popleft()
        # Own calls that were inside the window HubSpot last reported on and have left it since.
        aged_out = sum(1 for done in self._own_completions if done + window.interval_s <= now)
        return window.remaining - self._started_since_seen + aged_out
