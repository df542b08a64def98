"""The sandbox's rate limiter, driven by explicit times instead of the clock."""

from datetime import date

from local.hubspot_sandbox.rate_limit import Policy, RateLimiter, Rejection

DAY = date(2026, 3, 1)


def test_calls_within_the_limit_are_admitted_and_counted() -> None:
    # GIVEN a limit of 3 calls per 10 s
    limiter = RateLimiter(limit=3, window_ms=10_000, daily_limit=100)

    # WHEN two calls arrive
    admitted = [limiter.admit(now, DAY) for now in (0.0, 0.1)]

    # THEN both pass and the headers count them
    assert admitted == [None, None]
    assert limiter.headers(0.2, DAY) == {
        "X-HubSpot-RateLimit-Max": "3",
        "X-HubSpot-RateLimit-Remaining": "1",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Daily": "100",
        "X-HubSpot-RateLimit-Daily-Remaining": "98",
    }


def test_a_full_window_refuses_with_the_whole_seconds_until_a_slot_frees() -> None:
    # GIVEN a window already full: calls at 0.0 and 2.5 s, limit 2 per 10 s
    limiter = RateLimiter(limit=2, window_ms=10_000, daily_limit=100)
    limiter.admit(0.0, DAY)
    limiter.admit(2.5, DAY)

    # WHEN a call arrives at 3.2 s
    rejection = limiter.admit(3.2, DAY)

    # THEN it is refused until the call at 0.0 leaves the window at 10.0: ceil(6.8) = 7 s
    assert rejection == Rejection(Policy.TEN_SECONDLY_ROLLING, retry_after_s=7)


def test_retry_after_is_at_least_one_second() -> None:
    # GIVEN a full window whose oldest call leaves it in a few milliseconds
    limiter = RateLimiter(limit=1, window_ms=1_000, daily_limit=100)
    limiter.admit(0.0, DAY)

    # WHEN a call arrives just before that
    rejection = limiter.admit(0.999, DAY)

    # THEN Retry-After still says one whole second
    assert rejection == Rejection(Policy.TEN_SECONDLY_ROLLING, retry_after_s=1)


def test_a_refused_call_consumes_nothing() -> None:
    # GIVEN a full window
    limiter = RateLimiter(limit=1, window_ms=10_000, daily_limit=100)
    limiter.admit(0.0, DAY)

    # WHEN more calls are refused
    for now in (1.0, 2.0, 3.0):
        limiter.admit(now, DAY)

    # THEN only the admitted call counts, in the window and in the day
    assert limiter.usage(4.0, DAY) == {"windowUsed": 1, "dailyUsed": 1}


def test_the_window_rolls() -> None:
    # GIVEN a full window
    limiter = RateLimiter(limit=1, window_ms=10_000, daily_limit=100)
    limiter.admit(0.0, DAY)

    # WHEN the next call comes exactly when the first leaves the window
    # THEN it is admitted
    assert limiter.admit(10.0, DAY) is None


def test_the_daily_budget_refuses_without_retry_after_and_wins_over_the_window() -> None:
    # GIVEN a daily budget of 2, spent
    limiter = RateLimiter(limit=1, window_ms=10_000, daily_limit=2)
    limiter.admit(0.0, DAY)
    limiter.admit(20.0, DAY)

    # WHEN another call comes while the window is also full
    rejection = limiter.admit(21.0, DAY)

    # THEN the daily limit answers, since waiting seconds would not help
    assert rejection == Rejection(Policy.DAILY, retry_after_s=None)
    assert limiter.headers(21.0, DAY)["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_the_daily_budget_resets_on_a_new_day() -> None:
    # GIVEN a spent daily budget
    limiter = RateLimiter(limit=10, window_ms=10_000, daily_limit=1)
    limiter.admit(0.0, DAY)

    # WHEN a call comes the next (UTC) day
    # THEN it is admitted
    assert limiter.admit(1.0, date(2026, 3, 2)) is None


def test_limits_change_at_run_time_and_count_calls_already_made() -> None:
    # GIVEN two calls admitted under a generous limit
    limiter = RateLimiter(limit=10, window_ms=10_000, daily_limit=100)
    limiter.admit(0.0, DAY)
    limiter.admit(0.1, DAY)

    # WHEN the limit drops below what the window already holds
    limiter.reconfigure(limit=2, window_ms=5_000, daily_limit=50)

    # THEN the next call is refused and the headers show the new limits
    assert limiter.admit(0.2, DAY) == Rejection(Policy.TEN_SECONDLY_ROLLING, retry_after_s=5)
    headers = limiter.headers(0.2, DAY)
    assert (headers["X-HubSpot-RateLimit-Max"], headers["X-HubSpot-RateLimit-Remaining"]) == ("2", "0")
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "5000"
