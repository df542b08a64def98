"""When the client tries a failed HubSpot call again, and after how long."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from optout.hubspot.errors import HubSpotError, RateLimitedError, TransientError


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff for transient errors and short rate-limit waits.

    Only transient errors and 429s whose wait is at most `max_rate_limit_wait_s` are retried
    here; a DAILY limit, auth, scope and validation errors go straight back to the caller, who
    knows better (a queue retries later, an API caller gets a 429).
    """

    max_attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 4.0
    # HubSpot's rolling window frees a slot within its 10 s: waiting that long (within the
    # deadline) beats handing claimed records back to the queue, where each return is a receive
    # counted toward the dead-letter queue.
    max_rate_limit_wait_s: float = 12.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay_before_retry(self, error: HubSpotError, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1` (attempts count from 1), None to give up."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, RateLimitedError):
            if error.is_daily or error.retry_after_s > self.max_rate_limit_wait_s:
                return None
            return error.retry_after_s + self.rng.uniform(0, self.base_delay_s)
        if isinstance(error, TransientError):
            backoff = self.rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
            return max(backoff, error.retry_after_s or 0.0)
        return None
