"""Keeps one process's HubSpot calls inside its share of the account's rate limits.

HubSpot counts calls per app and account in a rolling window (190 per 10 s for most accounts)
and per day, and reports on its answers the window's size, how many calls are left in it and,
for private-app tokens, what is left of the day. The function shares both with the account's
other integrations and with its own other containers, none of which talk to each other, so each
process paces itself from what HubSpot tells it:

- a call may start while the last `Remaining` seen, less the calls this process started since,
  stays above a reserve: the part of the window left to the account's other integrations
  (`1 - window_share` of the limit) plus the calls the function's other containers may have in
  flight, acting on the same figure;
- when the window is full, a call may reuse a slot this process used itself once that call has
  left the window (its completion time plus the window length), so every container keeps the
  share it already had and the window stays full without overshooting;
- after a 429 every thread of the process waits out the wait together, instead of each finding
  the limit on its own; after a DAILY 429, or once the day's remaining budget falls to the part
  left to others (`1 - daily_share`), no call starts until the daily reset.

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
from optout.hubspot.rate_limit_headers import DailyBudget, RateLimitWindow, clamp_wait
from optout.outcomes import RateLimitPolicy

# What a process waiting for a slot says about why, as the RateLimited metric's `policy`.
CLIENT_PACING = RateLimitPolicy.CLIENT_PACING.value
DAILY = RateLimitPolicy.DAILY.value
DAILY_SHARE = RateLimitPolicy.DAILY_SHARE.value


class SlotWaitTooLongError(Exception):
    """No call slot frees up in time; `wait_s` is how long one would take, `policy` why."""

    def __init__(self, wait_s: float, policy: str) -> None:
        super().__init__(f"no HubSpot rate-limit slot within the time left (next in {wait_s:.2f}s, {policy})")
        self.wait_s = wait_s
        self.policy = policy


@dataclass
class CallSlot:
    """A call in progress; the caller sets `headers` from HubSpot's answer, if one came."""

    headers: Mapping[str, str] | None = None


class RateLimitPacer:
    def __init__(
        self,
        others_in_flight: int = 0,
        *,
        window_share: float = 1.0,
        daily_share: float = 1.0,
        seconds_until_daily_reset: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`others_in_flight`: how many calls the function's other containers may have in flight
        at once (their number times their concurrency). `window_share`, `daily_share`: the part of
        the account's window and day this function may use (0 to 1)."""
        self._others_in_flight = others_in_flight
        self._window_share = window_share
        self._daily_share = daily_share
        self._until_daily_reset = seconds_until_daily_reset or (lambda: 3600.0)
        self._clock = clock
        self._changed = threading.Condition()
        self._window: RateLimitWindow | None = None
        self._seen_at = 0.0
        self._started_since_seen = 0
        self._in_flight = 0
        self._own_completions: deque[float] = deque()
        self._blocked_until = 0.0
        self._blocked_by = CLIENT_PACING

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
                    raise SlotWaitTooLongError(wait, self._policy_of_wait())
                self._changed.wait(wait)

    def release(self, headers: Mapping[str, str] | None) -> None:
        """Records the end of a call started with `acquire`, and what HubSpot said of the limits."""
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
            budget = DailyBudget.from_headers(headers) if headers is not None else None
            if budget is not None and budget.remaining <= _left_to_others(self._daily_share, budget.limit):
                self._block(self._until_daily_reset(), DAILY_SHARE)
            self._changed.notify_all()

    def pause(self, seconds: float, policy: str) -> None:
        """Makes every caller wait `seconds` (HubSpot answered 429 with that wait)."""
        with self._changed:
            self._block(seconds, policy)

    def stop_for_the_day(self) -> None:
        """No call starts until the daily reset (HubSpot answered 429 with the DAILY policy)."""
        with self._changed:
            self._block(self._until_daily_reset(), DAILY)

    def _block(self, seconds: float, policy: str) -> None:
        until = self._clock() + clamp_wait(seconds)
        if until > self._blocked_until:
            self._blocked_until, self._blocked_by = until, policy

    def _policy_of_wait(self) -> str:
        return self._blocked_by if self._blocked_until > self._clock() else CLIENT_PACING

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
        return min(
            window.limit - 1, _left_to_others(self._window_share, window.limit) + self._others_in_flight
        )

    def _available(self, window: RateLimitWindow, now: float) -> int:
        while self._own_completions and self._own_completions[0] + window.interval_s <= self._seen_at:
            self._own_completions.popleft()
        # Own calls that were inside the window HubSpot last reported on and have left it since.
        aged_out = sum(1 for done in self._own_completions if done + window.interval_s <= now)
        return window.remaining - self._started_since_seen + aged_out


def _left_to_others(share: float, limit: int) -> int:
    """The calls of `limit` that the function's `share` leaves to the account's other integrations."""
    # Rounded first: (1 - 0.8) * 1000 is 199.99999999999997 in floating point.
    return math.ceil(round((1 - share) * limit, 6))
