"""The pacer keeps one process inside HubSpot's rolling window, from HubSpot's own headers."""

from __future__ import annotations

import pytest

from optout.deadline import Deadline
from optout.hubspot.pacing import RateLimitPacer, RateLimitWindow, SlotWaitTooLongError


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


def test_calls_go_ahead_while_remaining_stays_above_the_reserve():
    # Given 100 per window with 10 left and a reserve of 5 %
    clock = FakeClock()
    pacer = RateLimitPacer(reserve_fraction=0.05, clock=clock)
    call(pacer, headers(limit=100, remaining=10))

    # When calls start without new answers, then five more may start (10 - 5 reserve), not six
    slots = [pacer.slot(Deadline.after(60), max_wait_s=0) for _ in range(5)]
    for slot in slots:
        slot.__enter__()
    with pytest.raises(SlotWaitTooLongError):
        call(pacer, None)


def test_other_containers_calls_in_flight_are_kept_in_reserve():
    # Given one other container with up to 4 calls in flight, and 10 left of 100 in the window
    clock = FakeClock()
    pacer = RateLimitPacer(others_in_flight=4, clock=clock)
    call(pacer, headers(limit=100, remaining=10))

    # When calls start without new answers, then four may (10 - 6: the others' 4 and half again)
    slots = [pacer.slot(Deadline.after(60), max_wait_s=0) for _ in range(4)]
    for slot in slots:
        slot.__enter__()
    with pytest.raises(SlotWaitTooLongError):
        call(pacer, None)


def test_a_figure_a_whole_window_old_allows_one_call_to_refresh_it():
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock)
    call(pacer, headers(limit=10, remaining=0))
    clock.now += 10.0
    call(pacer, None)


def test_a_429_pauses_every_caller_for_its_retry_after():
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock)
    pacer.pause(3.0)
    with pytest.raises(SlotWaitTooLongError) as raised:
        call(pacer, None)
    assert raised.value.wait_s == pytest.approx(3.0)
    clock.now += 3.0
    call(pacer, None)


def test_a_wait_past_the_deadline_is_refused_even_when_short():
    pacer = RateLimitPacer()
    pacer.pause(1.0)
    with pytest.raises(SlotWaitTooLongError), pacer.slot(Deadline.after(0.5), max_wait_s=5):
        pass


def test_headers_are_read_leniently():
    assert RateLimitWindow.from_headers(headers(190, 12)) == RateLimitWindow(190, 12, 10.0)
    assert RateLimitWindow.from_headers({"X-HubSpot-RateLimit-Max": "x"}) is None
