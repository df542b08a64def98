"""HubSpot's answers mapped to the error taxonomy, and what the retry policy does with each."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from optout.hubspot.daily_reset import DailyReset
from optout.hubspot.error_mapping import error_from_response, is_already_unsubscribed
from optout.hubspot.errors import (
    AuthenticationError,
    EndpointNotFoundError,
    MissingScopesError,
    PermanentError,
    RateLimitedError,
    TransientError,
    UnexpectedResponseError,
)
from optout.hubspot.rate_limit_headers import MAX_WAIT_S, retry_after_seconds
from optout.hubspot.retry import RetryPolicy
from optout.outcomes import RetryKind, RetryLater

ERROR_BODY = {"status": "error", "message": "nope", "correlationId": "c-1", "category": "X"}


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (400, PermanentError, False),
        (401, AuthenticationError, True),
        (403, MissingScopesError, True),
        (423, TransientError, True),
        (429, RateLimitedError, True),
        (477, TransientError, True),
        (500, TransientError, True),
        (502, TransientError, True),
        (503, TransientError, True),
        (504, TransientError, True),
        (404, EndpointNotFoundError, True),
        (409, UnexpectedResponseError, True),
    ],
)
def test_each_status_maps_to_its_class(status, error_type, retryable):
    error = error_from_response(status, {}, ERROR_BODY)
    assert type(error) is error_type
    assert error.retryable is retryable
    assert (error.status, error.category, error.correlation_id, error.message) == (status, "X", "c-1", "nope")


def test_missing_scopes_are_read_from_the_error_details():
    body = {**ERROR_BODY, "errors": [{"message": "m", "context": {"requiredGranularScopes": ["a.b", "c.d"]}}]}
    error = error_from_response(403, {}, body)
    assert isinstance(error, MissingScopesError)
    assert error.required_scopes == ("a.b", "c.d")


def test_rate_limit_wait_comes_from_retry_after_then_the_interval_header():
    with_retry_after = error_from_response(
        429, {"Retry-After": "3", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, {}
    )
    with_interval = error_from_response(429, {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, {})
    assert isinstance(with_retry_after, RateLimitedError) and with_retry_after.retry_after_s == 3
    assert isinstance(with_interval, RateLimitedError) and with_interval.retry_after_s == 10


def test_a_429_without_retry_after_waits_by_what_its_window_headers_say():
    documented = {
        "status": "error",
        "message": "m",
        "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    window = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    full = error_from_response(429, {**window, "X-HubSpot-RateLimit-Remaining": "0"}, documented)
    room = error_from_response(429, {**window, "X-HubSpot-RateLimit-Remaining": "120"}, documented)
    # a full window frees a slot within its interval; one with room left was another limit
    assert isinstance(full, RateLimitedError) and full.retry_after_s == 10
    assert isinstance(room, RateLimitedError) and room.retry_after_s == 1


def test_hubspots_documented_429_without_retry_after_waits_the_interval_or_ten_seconds():
    documented = {
        "status": "error",
        "message": "m",
        "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    with_interval = error_from_response(
        429, {"X-HubSpot-RateLimit-Interval-Milliseconds": "2000"}, documented
    )
    bare = error_from_response(429, {}, documented)
    assert isinstance(with_interval, RateLimitedError) and with_interval.retry_after_s == 2
    assert isinstance(bare, RateLimitedError) and bare.retry_after_s == 10
    assert bare.policy == "TEN_SECONDLY_ROLLING"


def test_a_daily_limit_waits_for_midnight_in_the_accounts_time_zone():
    daily = {**ERROR_BODY, "policyName": "DAILY"}
    in_utc = error_from_response(429, {"Retry-After": "1"}, daily)
    in_tokyo = error_from_response(429, {}, daily, DailyReset("Asia/Tokyo"))
    assert isinstance(in_utc, RateLimitedError) and in_utc.is_daily
    assert in_utc.retry_after_s == pytest.approx(DailyReset("UTC").seconds_until(), abs=2)
    assert isinstance(in_tokyo, RateLimitedError)
    assert in_tokyo.retry_after_s == pytest.approx(DailyReset("Asia/Tokyo").seconds_until(), abs=2)
    assert 0 < in_tokyo.retry_after_s <= 86400


def test_midnight_is_found_across_a_daylight_saving_change():
    # 2026-03-08 01:00 in New York is 06:00 UTC; clocks go forward at 02:00, so midnight is 22 h away
    reset = DailyReset("America/New_York")
    assert reset.seconds_until(datetime(2026, 3, 8, 6, 0, tzinfo=UTC)) == 22 * 3600


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="IANA time zone"):
        DailyReset("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("inf", MAX_WAIT_S), ("-inf", 0.0), ("nan", 0.0), ("-3", 0.0), ("1e300", MAX_WAIT_S), ("2.5", 2.5)],
)
def test_an_absurd_retry_after_is_clamped(value, expected):
    assert retry_after_seconds({"Retry-After": value}) == expected
    error = error_from_response(429, {"Retry-After": value}, ERROR_BODY)
    assert isinstance(error, RateLimitedError) and error.retry_after_s == expected


def test_a_retry_after_date_far_away_or_malformed_is_bounded():
    assert retry_after_seconds({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}) == MAX_WAIT_S
    assert retry_after_seconds({"Retry-After": "Mon, 99 Foo 2026 99:99:99 GMT"}) is None
    assert retry_after_seconds({"Retry-After": "9" * 5000}) is None


def test_a_404_waits_for_a_fix_with_its_own_kind():
    outcome = error_from_response(404, {}, ERROR_BODY).outcome()
    assert isinstance(outcome, RetryLater) and outcome.kind is RetryKind.ENDPOINT_NOT_FOUND


def test_retry_after_may_be_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= (retry_after_seconds({"Retry-After": format_datetime(when, usegmt=True)}) or 0) <= 30
    assert retry_after_seconds({"Retry-After": "soon"}) is None


def test_locked_waits_at_least_two_seconds():
    error = error_from_response(423, {}, {})
    assert isinstance(error, TransientError) and error.retry_after_s == 2


def test_only_a_4xx_saying_already_unsubscribed_counts_as_success():
    assert is_already_unsubscribed(400, {"message": "Email has already been unsubscribed"})
    assert not is_already_unsubscribed(400, {"message": "Invalid email"})
    assert not is_already_unsubscribed(500, {"message": "already unsubscribed"})


def test_error_reprs_leave_out_hubspot_messages():
    error = error_from_response(400, {}, {**ERROR_BODY, "message": "bad address jane@example.com"})
    assert "jane@example.com" not in repr(error)


def test_retry_policy_retries_transient_errors_and_short_rate_limits_only():
    policy = RetryPolicy(
        max_attempts=3, base_delay_s=0.1, max_delay_s=1, max_rate_limit_wait_s=5, rng=random.Random(1)
    )
    assert policy.delay_before_retry(TransientError("x"), 1) is not None
    assert policy.delay_before_retry(TransientError("x"), 3) is None
    assert (policy.delay_before_retry(TransientError("x", retry_after_s=2), 1) or 0) >= 2
    assert 2 <= (policy.delay_before_retry(RateLimitedError("x", retry_after_s=2), 1) or 0) <= 2.1
    assert policy.delay_before_retry(RateLimitedError("x", retry_after_s=10), 1) is None
    assert policy.delay_before_retry(RateLimitedError("x", retry_after_s=1, policy="DAILY"), 1) is None
    for error in (PermanentError("x"), AuthenticationError("x"), MissingScopesError("x")):
        assert policy.delay_before_retry(error, 1) is None


def test_backoff_grows_exponentially_within_its_cap():
    policy = RetryPolicy(max_attempts=10, base_delay_s=0.1, max_delay_s=0.4, rng=random.Random(7))
    delays = [
        policy.delay_before_retry(TransientError("x"), attempt) for attempt in range(1, 9) for _ in range(50)
    ]
    assert all(delay is not None and 0 <= delay <= 0.4 for delay in delays)
    assert max(d for d in delays[:50] if d is not None) <= 0.1
