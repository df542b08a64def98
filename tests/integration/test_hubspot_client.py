"""The HubSpot client against the sandbox over a real socket: success, errors, retries, batches."""

from __future__ import annotations

import logging
import time

import pytest

from local.hubspot_sandbox import ALL_SCOPES, HubSpotSandbox
from local.hubspot_sandbox.auth import WRITE
from optout.deadline import Deadline
from optout.hubspot.client import BatchAnswer, HubSpotClient
from optout.hubspot.daily_reset import DailyReset
from optout.hubspot.errors import (
    AuthenticationError,
    HubSpotError,
    MissingScopesError,
    PermanentError,
    RateLimitedError,
    TokenUnavailableError,
    TransientError,
)
from optout.hubspot.retry import RetryPolicy
from optout.hubspot.transport import ClientConfig
from optout.outcomes import Change, Unsubscribed

PATH_CASES = ["a/../../crm@x.com", "a?b@x.com", "a#b@x.com", "a%2F@x.com", "o'hara+tag@x.com"]


class RotatingToken:
    """A token source whose refresh returns the next token, counting reads."""

    def __init__(self, *tokens: str) -> None:
        self._tokens = list(tokens)
        self.refreshes = 0

    def token(self) -> str:
        return self._tokens[0]

    def refresh(self, refused: str) -> str:
        assert refused == self._tokens[0]
        self.refreshes += 1
        if len(self._tokens) > 1:
            self._tokens.pop(0)
        return self._tokens[0]


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


def make_client(
    sandbox: HubSpotSandbox,
    token: str | RotatingToken,
    *,
    sleep: RecordingSleep | None = None,
    **config: object,
) -> HubSpotClient:
    tokens = token if isinstance(token, RotatingToken) else RotatingToken(token)
    retry = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05)
    return HubSpotClient(
        tokens,
        ClientConfig(base_url=sandbox.base_url, **config),  # type: ignore[arg-type]
        retry=retry,
        sleep=sleep or RecordingSleep(),
    )


def succeeded(answer: BatchAnswer) -> dict[str, Unsubscribed]:
    return {subscriber: result for subscriber, result in answer.items() if isinstance(result, Unsubscribed)}


def failed(answer: BatchAnswer) -> dict[str, HubSpotError]:
    return {subscriber: result for subscriber, result in answer.items() if isinstance(result, HubSpotError)}


def test_first_unsubscribe_changes_the_state_and_the_second_reports_no_change(hubspot_sandbox, hubspot_token):
    # Given a subscriber who never opted out
    client = make_client(hubspot_sandbox, hubspot_token)

    # When they are unsubscribed twice
    first = client.unsubscribe_all("jane@example.com")
    second = client.unsubscribe_all("jane@example.com")

    # Then HubSpot did it once and says so, and the status reads back as unsubscribed
    assert first.change is Change.UNSUBSCRIBED
    assert second.change is Change.ALREADY_UNSUBSCRIBED
    assert first.statuses and all(status["status"] == "UNSUBSCRIBED" for status in first.statuses)
    assert client.unsubscribe_all_status("jane@example.com").unsubscribed_for(None)
    assert hubspot_sandbox.successful_unsubscribes() == {"jane@example.com": 2}


def test_business_unit_and_version_are_sent_as_configured(hubspot_sandbox, hubspot_token):
    # Given a client on the date-based API version
    client = make_client(hubspot_sandbox, hubspot_token, api_version="2026-03")

    # When a subscriber is unsubscribed from one brand
    client.unsubscribe_all("jane@example.com", business_unit_id=7)

    # Then the call used that version's path and the brand, and only that brand is opted out
    [call] = hubspot_sandbox.calls()
    assert (
        call.request.raw_path
        == "/communication-preferences/2026-03/statuses/jane%40example.com/unsubscribe-all"
    )
    assert call.request.business_unit_id == 7
    assert "channel=EMAIL" in call.request.query
    assert not client.unsubscribe_all_status("jane@example.com").unsubscribed_for(None)
    assert client.unsubscribe_all_status("jane@example.com", business_unit_id=7).unsubscribed_for(7)


def test_the_client_asks_for_detail_and_takes_hubspots_success_status(hubspot_sandbox, hubspot_token):
    # Given a HubSpot that answers terse without verbose (documented), and with status SUCCESS (its guide's)
    hubspot_sandbox.configure(quirks=["success-status"])
    client = make_client(hubspot_sandbox, hubspot_token)

    # When a subscriber is unsubscribed
    result = client.unsubscribe_all("jane@example.com")

    # Then the call asked for detail, and the detailed SUCCESS answer confirmed what changed
    [call] = hubspot_sandbox.calls()
    assert "verbose=true" in call.request.query
    assert result.change is Change.UNSUBSCRIBED
    assert result.answer is not None
    assert result.answer["status"] == "SUCCESS"


@pytest.mark.parametrize("address", PATH_CASES)
def test_an_address_reaches_hubspot_as_one_path_segment(hubspot_sandbox, hubspot_token, address):
    # Given an address with characters that mean something in a URL
    client = make_client(hubspot_sandbox, hubspot_token)

    # When it is unsubscribed
    client.unsubscribe_all(address)

    # Then the raw path has it percent-encoded in one segment, decoding to exactly that address
    [call] = hubspot_sandbox.calls()
    prefix, segment, suffix = call.request.raw_path.rsplit("/", 2)
    assert prefix == "/communication-preferences/v4/statuses"
    assert suffix == "unsubscribe-all"
    assert not set("/?#") & set(segment)
    assert call.request.subscriber == address
    assert call.status == 200


def test_a_revoked_token_is_re_read_once_and_the_rotated_one_is_used(hubspot_sandbox, hubspot_token):
    # Given a token that was rotated: the old one is revoked, the new one is in the secret
    hubspot_sandbox.add_token("rotated-token", ALL_SCOPES)
    hubspot_sandbox.revoke_token(hubspot_token)
    tokens = RotatingToken(hubspot_token, "rotated-token")
    client = make_client(hubspot_sandbox, tokens)

    # When a call is made
    result = client.unsubscribe_all("jane@example.com")

    # Then the 401 made the client re-read the token once, and the retry succeeded
    assert result.statuses
    assert tokens.refreshes == 1
    assert [call.status for call in hubspot_sandbox.calls()] == [401, 200]


def test_a_token_that_stays_invalid_fails_with_an_authentication_error(hubspot_sandbox):
    # Given a token HubSpot does not know, before or after a re-read
    tokens = RotatingToken("not-a-real-token")
    client = make_client(hubspot_sandbox, tokens)

    # When a call is made, then it fails as authentication, after exactly one re-read
    with pytest.raises(AuthenticationError) as raised:
        client.unsubscribe_all("jane@example.com")
    assert raised.value.status == 401
    assert raised.value.category == "INVALID_AUTHENTICATION"
    assert tokens.refreshes == 1
    assert len(hubspot_sandbox.calls()) == 2


def test_a_token_without_the_batch_scope_gets_missing_scopes_naming_it(hubspot_sandbox):
    # Given a token allowed single writes only
    hubspot_sandbox.add_token("single-only", {WRITE})
    client = make_client(hubspot_sandbox, "single-only")

    # When it tries the batch endpoint
    answer = client.unsubscribe_all_batch(["a@example.com", "b@example.com"])

    # Then every input failed with the scope HubSpot asked for, and single calls still work
    assert not succeeded(answer)
    errors = set(failed(answer).values())
    assert len(errors) == 1
    [error] = errors
    assert isinstance(error, MissingScopesError)
    assert "communication_preferences.statuses.batch.write" in error.required_scopes
    assert client.unsubscribe_all("a@example.com").statuses


def test_an_address_hubspot_rejects_is_a_permanent_error_and_not_retried(hubspot_sandbox, hubspot_token):
    # Given a HubSpot that refuses this address
    hubspot_sandbox.configure(invalid_subscribers=r"^refused@")
    client = make_client(hubspot_sandbox, hubspot_token)

    # When it is unsubscribed, then the error is permanent and there was one call
    with pytest.raises(PermanentError) as raised:
        client.unsubscribe_all("refused@example.com")
    assert raised.value.status == 400
    assert raised.value.category == "VALIDATION_ERROR"
    assert len(hubspot_sandbox.calls()) == 1


def test_transient_failures_are_retried_until_success(hubspot_sandbox, hubspot_token):
    # Given HubSpot refuses with 503, then drops the connection, then answers
    hubspot_sandbox.script_faults(["503", "drop", "ok"])
    sleep = RecordingSleep()
    client = make_client(hubspot_sandbox, hubspot_token, sleep=sleep)

    # When a subscriber is unsubscribed
    result = client.unsubscribe_all("jane@example.com")

    # Then the 503 (a refusal) was retried at once; the dropped call, which HubSpot may have
    # carried out, was followed by a status read, and only then by the write that succeeded
    assert result.statuses
    assert [(call.request.operation, call.status) for call in hubspot_sandbox.calls()] == [
        ("unsubscribe-all", 503),
        ("unsubscribe-all", None),
        ("read-unsubscribe-all", 200),
        ("unsubscribe-all", 200),
    ]
    assert hubspot_sandbox.successful_unsubscribes() == {"jane@example.com": 1}


@pytest.mark.parametrize("fault", ["500", "502", "504", "timeout", "drop"])
def test_a_write_that_may_have_been_carried_out_is_never_sent_again_blind(
    hubspot_sandbox, hubspot_token, fault
):
    # Given HubSpot fails a write in a way that leaves its fate unknown, then the status read fails too
    hubspot_sandbox.configure(timeout_hang_s=0.2)
    hubspot_sandbox.script_faults([fault, "503", "503", "503", "503"])
    client = make_client(hubspot_sandbox, hubspot_token, read_timeout_s=0.1)

    # When a subscriber is unsubscribed, then it fails saying HubSpot may have applied it
    with pytest.raises(TransientError) as raised:
        client.unsubscribe_all("jane@example.com")
    assert raised.value.may_have_applied
    assert raised.value.outcome().may_have_applied

    # And the write was not sent a second time
    writes = [call for call in hubspot_sandbox.calls() if call.request.operation == "unsubscribe-all"]
    assert len(writes) == 1


def test_a_hung_call_times_out_and_is_retried(hubspot_sandbox, hubspot_token):
    # Given a HubSpot that hangs on the first call for longer than the whole test may take
    hubspot_sandbox.configure(timeout_hang_s=30.0)
    hubspot_sandbox.script_faults(["timeout", "ok"])
    client = make_client(hubspot_sandbox, hubspot_token, read_timeout_s=0.3)

    # When a subscriber is unsubscribed
    started = time.monotonic()
    result = client.unsubscribe_all("jane@example.com")

    # Then the client gave up on the hung call after its read timeout (then waited its 2 s grace
    # and read the status, since HubSpot may have applied it) and the retry succeeded
    assert result.statuses
    assert time.monotonic() - started < 10.0
    assert hubspot_sandbox.successful_unsubscribes() == {"jane@example.com": 1}


def test_retries_stop_at_the_deadline(hubspot_sandbox, hubspot_token):
    # Given a HubSpot that always answers 503
    hubspot_sandbox.configure(fault_rates={"503": 1.0})
    client = HubSpotClient(
        RotatingToken(hubspot_token),
        ClientConfig(base_url=hubspot_sandbox.base_url),
        retry=RetryPolicy(max_attempts=1000, base_delay_s=0.05, max_delay_s=0.1),
    )

    # When a call is given one second
    started = time.monotonic()
    with pytest.raises(TransientError) as raised:
        client.unsubscribe_all("jane@example.com", deadline=Deadline.after(1.0))

    # Then it retried several times, and gave up with the last error before the deadline passed
    elapsed = time.monotonic() - started
    assert raised.value.status == 503
    assert len(hubspot_sandbox.calls()) > 3
    assert elapsed < 1.0


def test_retry_after_of_a_rate_limit_is_honoured(hubspot_sandbox, hubspot_token):
    # Given a 429 asking to wait one second (a Retry-After HubSpot has been seen to send)
    hubspot_sandbox.configure(fault_retry_after_s=1, quirks=["retry-after"])
    hubspot_sandbox.script_faults(["429", "ok"])
    sleep = RecordingSleep()
    client = make_client(hubspot_sandbox, hubspot_token, sleep=sleep)

    # When a subscriber is unsubscribed
    result = client.unsubscribe_all("jane@example.com")

    # Then the client waited at least that long before the successful retry
    assert result.statuses
    assert [call.status for call in hubspot_sandbox.calls()] == [429, 200]
    assert sleep.delays and sleep.delays[0] >= 1.0


def test_a_long_rate_limit_wait_is_left_to_the_caller(hubspot_sandbox, hubspot_token):
    # Given a rolling-window limit of one call per minute, used by another container
    hubspot_sandbox.configure(rate_limit=1, rate_window_ms=60_000)
    make_client(hubspot_sandbox, hubspot_token).unsubscribe_all("first@example.com")
    client = make_client(hubspot_sandbox, hubspot_token)

    # When a second call is made, then it fails at once with the wait HubSpot named
    with pytest.raises(RateLimitedError) as raised:
        client.unsubscribe_all("second@example.com")
    assert raised.value.policy == "TEN_SECONDLY_ROLLING"
    assert not raised.value.is_daily
    assert raised.value.retry_after_s > 12


def test_the_interval_header_is_the_wait_when_retry_after_is_missing(hubspot_sandbox, hubspot_token):
    # Given rolling-window 429s without Retry-After, in a 30 s window another container filled
    hubspot_sandbox.configure(rate_limit=1, rate_window_ms=30_000)
    make_client(hubspot_sandbox, hubspot_token).unsubscribe_all("first@example.com")
    client = make_client(hubspot_sandbox, hubspot_token)

    # When the limit is hit, then the wait is the window's interval
    with pytest.raises(RateLimitedError) as raised:
        client.unsubscribe_all("second@example.com")
    assert raised.value.retry_after_s == 30.0


def test_a_client_that_saw_the_window_full_waits_for_a_slot_instead_of_calling(
    hubspot_sandbox, hubspot_token
):
    # Given a client that used the only call of a one-minute window itself
    hubspot_sandbox.configure(rate_limit=1, rate_window_ms=60_000)
    client = make_client(hubspot_sandbox, hubspot_token)
    client.unsubscribe_all("first@example.com")

    # When it is asked for another call, then it refuses to wait that long, without calling
    with pytest.raises(RateLimitedError) as raised:
        client.unsubscribe_all("second@example.com")
    assert raised.value.policy == "CLIENT_PACING"
    assert 50 < raised.value.retry_after_s <= 60
    assert len(hubspot_sandbox.calls()) == 1


def test_a_daily_limit_stops_the_client_until_midnight(hubspot_sandbox, hubspot_token):
    # Given a daily budget of one call, used by another container
    hubspot_sandbox.configure(daily_limit=1)
    make_client(hubspot_sandbox, hubspot_token).unsubscribe_all("first@example.com")
    client = make_client(hubspot_sandbox, hubspot_token)

    # When this container calls, then HubSpot's DAILY 429 is not retried and waits for midnight
    with pytest.raises(RateLimitedError) as raised:
        client.unsubscribe_all("second@example.com")
    assert raised.value.is_daily
    assert raised.value.retry_after_s == pytest.approx(DailyReset().seconds_until(), abs=5)

    # And no later call of the container reaches HubSpot before then
    with pytest.raises(RateLimitedError) as later:
        client.unsubscribe_all("third@example.com")
    assert later.value.is_daily
    assert [call.status for call in hubspot_sandbox.calls()] == [200, 429]


def test_a_container_that_sees_the_day_used_up_stops_before_hubspot_refuses(hubspot_sandbox, hubspot_token):
    # Given a daily budget of two calls and a client that may use all of it
    hubspot_sandbox.configure(daily_limit=2)
    client = make_client(hubspot_sandbox, hubspot_token)

    # When it has made both, then the next call is refused by the client itself, as daily
    client.unsubscribe_all("first@example.com")
    client.unsubscribe_all("second@example.com")
    with pytest.raises(RateLimitedError) as raised:
        client.unsubscribe_all("third@example.com")
    assert raised.value.is_daily
    assert [call.status for call in hubspot_sandbox.calls()] == [200, 200]


def test_a_batch_is_split_into_chunks_and_each_input_mapped_to_its_result(hubspot_sandbox, hubspot_token):
    # Given seven addresses, one of them twice in another case, and chunks of three
    client = make_client(hubspot_sandbox, hubspot_token, batch_size=3)
    addresses = [f"user{n}@example.com" for n in range(7)] + ["USER0@example.com"]

    # When they are unsubscribed in batch
    answer = client.unsubscribe_all_batch(addresses)

    # Then three calls covered the seven distinct addresses, and every input has its result
    calls = hubspot_sandbox.calls()
    assert [len(call.request.inputs or ()) for call in calls] == [3, 3, 1]
    assert set(succeeded(answer)) == set(addresses)
    assert not failed(answer)
    assert succeeded(answer)["user3@example.com"].subscriber == "user3@example.com"
    assert succeeded(answer)["user3@example.com"].change is Change.UNSUBSCRIBED
    assert answer["USER0@example.com"] is answer["user0@example.com"]


def test_a_rejected_batch_is_narrowed_to_the_inputs_hubspot_named(hubspot_sandbox, hubspot_token):
    # Given a HubSpot that rejects a whole batch for one address it refuses
    hubspot_sandbox.configure(invalid_subscribers=r"^refused@", quirks=["reject-batch"])
    client = make_client(hubspot_sandbox, hubspot_token)

    # When a batch holding that address is sent
    answer = client.unsubscribe_all_batch(["a@example.com", "refused@example.com", "b@example.com"])

    # Then only that address failed, permanently, and the rest were sent again and succeeded
    assert set(succeeded(answer)) == {"a@example.com", "b@example.com"}
    error = answer["refused@example.com"]
    assert isinstance(error, PermanentError)
    assert not error.batch_wide
    assert [call.status for call in hubspot_sandbox.calls()] == [400, 200]


def test_a_partial_batch_answer_maps_errors_to_their_inputs(hubspot_sandbox, hubspot_token):
    # Given a HubSpot that answers 207 with per-input errors
    hubspot_sandbox.configure(invalid_subscribers=r"^refused@", quirks=["partial-207"])
    client = make_client(hubspot_sandbox, hubspot_token)

    # When a batch holding a refused address is sent
    answer = client.unsubscribe_all_batch(["a@example.com", "refused@example.com"])

    # Then one call settled both: one success, one permanent failure
    assert set(succeeded(answer)) == {"a@example.com"}
    assert isinstance(answer["refused@example.com"], PermanentError)
    assert [call.status for call in hubspot_sandbox.calls()] == [207]


def test_the_token_never_appears_in_logs_errors_or_reprs(hubspot_sandbox, hubspot_token, caplog):
    # Given every logger recording at DEBUG, and calls that fail in each way
    caplog.set_level(logging.DEBUG)
    hubspot_sandbox.configure(invalid_subscribers=r"^refused@")
    client = make_client(hubspot_sandbox, hubspot_token)
    texts = [repr(client)]
    hubspot_sandbox.script_faults(["drop", "drop", "drop", "drop"])
    for call in (
        lambda: client.unsubscribe_all("refused@example.com"),
        lambda: client.unsubscribe_all("jane@example.com"),
        lambda: make_client(hubspot_sandbox, "wrong-" + hubspot_token).unsubscribe_all("jane@example.com"),
    ):
        try:
            call()
        except Exception as error:
            texts += [str(error), repr(error), repr(error.__cause__), repr(error.__context__)]

    # Then the token is in none of them
    texts.append(caplog.text)
    assert len(texts) > 4
    assert all(hubspot_token not in text for text in texts)


@pytest.mark.parametrize(
    "token", ["pat-na1-secret\r\nX-Injected: 1", "pat-na1 secret", "pat-na1-s\u00e9cret", ""]
)
def test_a_token_that_cannot_be_one_is_refused_before_any_call_without_quoting_it(hubspot_sandbox, token):
    # Given a token with a line break, a blank, a non-ASCII letter, or none at all
    client = make_client(hubspot_sandbox, token)

    # When a call is made, then it is refused as an unavailable token, naming none of it
    with pytest.raises(TokenUnavailableError) as raised:
        client.unsubscribe_all("jane@example.com")
    assert hubspot_sandbox.calls() == []
    texts = [str(raised.value), repr(raised.value), repr(raised.value.__context__)]
    assert all("secret" not in text for text in texts)
