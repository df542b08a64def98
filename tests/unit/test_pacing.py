"""The pacer keeps one process inside its share of HubSpot's limits, from HubSpot's own headers."""

from __future__ import annotations

import pytest

from optout.deadline import Deadline
from optout.hubspot.pacing import CLIENT_PACING, DAILY, DAILY_SHARE, RateLimitPacer, SlotWaitTooLongError
from optout.hubspot.rate_limit_headers import MAX_WAIT_S, RateLimitWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def headers(limit: int, remaining: int, interval_ms: int = 10_000) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Max": str(limit),
        "X-HubSpot-RateLimit-Remaining": str(remaining),
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(interval_ms),
    }


def call(pacer: RateLimitPacer, answer: dict[str, str] | None) -> None:
    with pacer.slot(Deadline.after(60), max_wait_s=0) as slot:
        slot.headers = answer


def test_without_rate_limit_headers_calls_go_ahead():
    pacer = RateLimitPacer()
    for _ in range(50):
        call(pacer, None)


def test_a_window_reported_full_stops_calls_until_an_own_call_leaves_it():
    # Given HubSpot said the window (10 per 10 s) is used up after our call
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock)
    call(pacer, headers(limit=10, remaining=0))

    # When another call is asked for at once, then it would have to wait about the window
    with pytest.raises(SlotWaitTooLongError) as raised:
        call(pacer, None)
    assert 9.9 <= raised.value.wait_s <= 10.0

    # And once our own call has left the window, its slot is used again
    clock.now += 10.0
    call(pacer, headers(limit=10, remaining=0))


def start(pacer: RateLimitPacer, calls: int) -> None:
    """Starts calls that have not answered yet."""
    for _ in range(calls):
        pacer.slot(Deadline.after(60), max_wait_s=0).__enter__()


def test_the_part_of_the_window_left_to_other_integrations_is_never_used():
    # Given the function may use 90 % of 100 per window, and HubSpot says 15 are left
    clock = FakeClock()
    pacer = RateLimitPacer(window_share=0.9, clock=clock)
    call(pacer, headers(limit=100, remaining=15))

    # When calls start without new answers, then five may (15 - the 10 left to others), not six
    start(pacer, 5)
    with pytest.raises(SlotWaitTooLongError) as raised:
        call(pacer, None)
    assert raised.value.policy == CLIENT_PACING


def test_other_containers_calls_in_flight_are_kept_in_reserve():
    # Given one other container with up to 4 calls in flight, and 10 left of 100 in the window
    clock = FakeClock()
    pacer = RateLimitPacer(others_in_flight=4, clock=clock)
    call(pacer, headers(limit=100, remaining=10))

    # When calls start without new answers, then six may (10 - the others' 4)
    start(pacer, 6)
    with pytest.raises(SlotWaitTooLongError):
        call(pacer, None)


def test_a_daily_budget_down_to_the_part_left_to_others_stops_calls_until_the_reset():
    # Given the function may use 80 % of the day's 1,000 calls, and HubSpot says 200 are left
    clock = FakeClock()
    pacer = RateLimitPacer(daily_share=0.8, seconds_until_daily_reset=lambda: 5000.0, clock=clock)
    daily = {"X-HubSpot-RateLimit-Daily": "1000", "X-HubSpot-RateLimit-Daily-Remaining": "200"}
    call(pacer, daily)

    # When another call is asked for, then none starts before the reset, and it says why
    with pytest.raises(SlotWaitTooLongError) as raised:
        call(pacer, None)
    assert raised.value.wait_s == pytest.approx(5000.0)
    assert raised.value.policy == DAILY_SHARE
    clock.now += 5000.0
    call(pacer, None)


def test_a_daily_limit_stops_every_caller_until_the_reset():
    clock = FakeClock()
    pacer = RateLimitPacer(seconds_until_daily_reset=lambda: 7200.0, clock=clock)
    pacer.stop_for_the_day()
    with pytest.raises(SlotWaitTooLongError) as raised:
        call(pacer, None)
    assert raised.value.policy == DAILY
    assert raised.value.wait_s == pytest.approx(7200.0)


@pytest.mark.parametrize("seconds", [float("inf"), float("nan"), -5.0, 1e300])
def test_an_absurd_wait_is_clamped_to_between_nothing_and_a_day(seconds):
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock)
    pacer.pause(seconds, "TEN_SECONDLY_ROLLING")
    waits: list[float] = []
    try:
        call(pacer, None)
    except SlotWaitTooLongError as raised:
        waits.append(raised.wait_s)
    assert all(0 < wait <= MAX_WAIT_S for wait in waits)


def test_a_figure_a_whole_window_old_allows_one_call_to_refresh_it():
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock)
    call(pacer, headers(limit=10, remaining=0))
    clock.now += 10.0
    call(pacer, None)


def test_a_429_pauses_every_caller_for_its_retry_after():
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock)
    pacer.pause(3.0, "TEN_SECONDLY_ROLLING")
    with pytest.raises(SlotWaitTooLongError) as raised:
        call(pacer, None)
    assert raised.value.wait_s == pytest.approx(3.0)
    assert raised.value.policy == "TEN_SECONDLY_ROLLING"
    clock.now += 3.0
    call(pacer, None)


def test_a_wait_past_the_deadline_is_refused_even_when_short():
    pacer = RateLimitPacer()
    pacer.pause(1.0, "TEN_SECONDLY_ROLLING")
    with pytest.raises(SlotWaitTooLongError), pacer.slot(Deadline.after(0.5), max_wait_s=5):
        pass


def test_headers_are_read_leniently():
    assert RateLimitWindow.from_headers(headers(190, 12)) == RateLimitWindow(190, 12, 10.0)
    assert RateLimitWindow.from_headers({"X-HubSpot-RateLimit-Max": "x"}) is None


@pytest.mark.parametrize(
    ("limit", "remaining", "interval"),
    [
        ("inf", "5", "10000"),
        ("190", "-1", "10000"),
        ("190", "191", "10000"),
        ("190", "5", "0"),
        ("190", "5", "nan"),
        ("9" * 5000, "5", "10000"),
        ("190", "5", "1" + "0" * 40),
        ("\u00b9\u2079\u2070", "5", "10000"),
    ],
)
def test_absurd_window_headers_count_as_absent(limit, remaining, interval):
    assert RateLimitWindow.from_headers(headers_of(limit, remaining, interval)) is None


def headers_of(limit: str, remaining: str, interval: str) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Max": limit,
        "X-HubSpot-RateLimit-Remaining": remaining,
        "X-HubSpot-RateLimit-Interval-Milliseconds": interval,
    }
