"""HubSpot's answers mapped to the error taxonomy, and what the retry policy does with each."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from optout.hubspot.error_mapping import error_from_response, is_already_unsubscribed, retry_after_seconds
from optout.hubspot.errors import (
    AuthenticationError,
    MissingScopesError,
    PermanentError,
    RateLimitedError,
    TransientError,
    UnexpectedResponseError,
)
from optout.hubspot.retry import RetryPolicy

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
        (404, UnexpectedResponseError, True),
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


def test_a_daily_limit_is_recognised_by_its_policy():
    error = error_from_response(429, {}, {**ERROR_BODY, "policyName": "DAILY"})
    assert isinstance(error, RateLimitedError) and error.is_daily and error.retry_after_s >= 3600


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
