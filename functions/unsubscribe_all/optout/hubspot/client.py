"""HubSpot's unsubscribe-all operations over urllib3 (no SDK speaks the v4 paths).

One client per process: it owns a pooled connection manager reused across calls, retries only
what can succeed by retrying, paces itself inside its share of the account's rate limits, and
never lets a call outlive the caller's deadline. It asks HubSpot for what it needs (`verbose=true`
on every write and read) and believes an unsubscribe only when HubSpot says it is done; an answer
that does not say so is confirmed with a status read before the caller hears of it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from optout.deadline import Deadline
from optout.hubspot.daily_reset import DailyReset
from optout.hubspot.error_mapping import error_from_response, is_already_unsubscribed
from optout.hubspot.errors import (
    AuthenticationError,
    HubSpotError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from optout.hubspot.pacing import RateLimitPacer, SlotWaitTooLongError
from optout.hubspot.responses import (
    UnsubscribeAllStatus,
    already_unsubscribed,
    confirmed_by_status,
    parse_batch_status_read,
    parse_unsubscribe_all,
    parse_unsubscribe_all_status,
    read_batch_answer,
    subscribers_named_in,
)
from optout.hubspot.retry import RetryPolicy
from optout.hubspot.subscribers import subscriber_key
from optout.hubspot.token_source import TokenSource, checked_token
from optout.hubspot.versions import validate_api_version
from optout.outcomes import RateLimitPolicy, Unsubscribed

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Below this, an attempt cannot finish: give up rather than start it.
MIN_ATTEMPT_S = 0.05


def validate_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; https is required except on loopback."""
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host, e.g. https://api.hubapi.com")
    if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError("must use https (plain http is accepted only for a loopback sandbox)")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    return base_url.rstrip("/")


@dataclass(frozen=True)
class ClientConfig:
    base_url: str = "https://api.hubapi.com"
    api_version: str = "v4"
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 10.0
    batch_size: int = 100
    max_connections: int = 10
    # Used when a caller passes no deadline of its own.
    default_deadline_s: float = 60.0
    # The daily limit resets at midnight here (an IANA name).
    account_time_zone: str = "UTC"

    def __post_init__(self) -> None:
        validate_base_url(self.base_url)
        validate_api_version(self.api_version)
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP exchange with HubSpot, for metrics: `status` is None when no answer came."""

    operation: str
    status: int | None
    duration_s: float
    inputs: int
    error_kind: str | None


CallObserver = Callable[[CallRecord], None]


# Each input of a batch unsubscribe-all, exactly as given, mapped to its result or its error.
BatchAnswer = dict[str, Unsubscribed | HubSpotError]


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: Mapping[str, Any]


def _json_object(data: bytes) -> Mapping[str, Any]:
    try:
        decoded = json.loads(data) if data else {}
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


_NOT_CONFIRMED = "HubSpot's answer did not confirm the unsubscribe, and its status does not show it yet"
_UNCONFIRMED = "HubSpot's answer did not confirm the unsubscribe"
# Transport failures that happen before a request leaves: HubSpot cannot have seen it.
_NEVER_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
# A call that timed out may still be running at HubSpot: give it this long before reading its effect.
GRACE_AFTER_TIMEOUT_S = 2.0


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class HubSpotClient:
    def __init__(
        self,
        tokens: TokenSource,
        config: ClientConfig | None = None,
        *,
        retry: RetryPolicy | None = None,
        pacer: RateLimitPacer | None = None,
        observer: CallObserver | None = None,
        pool: urllib3.PoolManager | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config or ClientConfig()
        self._tokens = tokens
        self._retry = retry or RetryPolicy()
        self._daily_reset = DailyReset(self.config.account_time_zone)
        self._pacer = pacer or RateLimitPacer(seconds_until_daily_reset=self._daily_reset.seconds_until)
        self._observer = observer
        self._sleep = sleep
        # urllib3 verifies certificates by default; retries are ours, so urllib3 makes none.
        self._pool = pool or urllib3.PoolManager(
            num_pools=2, maxsize=self.config.max_connections, retries=False, cert_reqs="CERT_REQUIRED"
        )
        base_url = validate_base_url(self.config.base_url)
        self._prefix = f"{base_url}/communication-preferences/{self.config.api_version}"

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.config.base_url!r}, api_version={self.config.api_version!r})"

    def renew_after_restore(self) -> None:
        """For a copy restored from a SnapStart snapshot: connections of its own, opened on its next
        call, and jitter of its own, so copies of one snapshot do not retry in step."""
        self._pool.clear()
        self._retry.rng.seed()

    def unsubscribe_all(
        self, subscriber: str, *, business_unit_id: int | None = None, deadline: Deadline | None = None
    ) -> Unsubscribed:
        """Unsubscribes one subscriber from all email; raises HubSpotError when it cannot say it did.

        A write that may have been carried out unseen (a timeout, a 500/502/504, an answer that
        does not confirm) is never sent again blind: HubSpot's status is read first, and the write
        is sent again only when the status shows it was not applied, within the retry policy and
        the deadline. When the status cannot be read, the error says the write may have applied.
        """
        deadline = deadline or Deadline.after(self.config.default_deadline_s)
        url = self._url(("statuses", subscriber, "unsubscribe-all"), business_unit_id)
        attempt = 1
        while True:
            try:
                response = self._call(
                    "unsubscribe_all",
                    method="POST",
                    url=url,
                    payload=None,
                    inputs=1,
                    deadline=deadline,
                    write=True,
                )
            except PermanentError as error:
                if not is_already_unsubscribed(error.status or 0, error.body):
                    raise
                return already_unsubscribed(subscriber)
            except HubSpotError as error:
                if not error.may_have_applied:
                    raise
                unknown = error
                self._grace_for_unanswered(error, deadline)
            else:
                done = parse_unsubscribe_all(subscriber, response.body)
                if done is not None:
                    return done
                unknown = TransientError(_UNCONFIRMED, may_have_applied=True)
            if self._shows_opt_out(subscriber, business_unit_id, deadline, unknown):
                return confirmed_by_status(subscriber)
            not_applied = TransientError(_NOT_CONFIRMED)
            delay = self._retry.delay_before_retry(not_applied, attempt)
            if delay is None or not deadline.allows(delay + MIN_ATTEMPT_S):
                raise not_applied
            self._sleep(delay)
            attempt += 1

    def _grace_for_unanswered(self, error: HubSpotError, deadline: Deadline) -> None:
        """A call that got no answer may still be running at HubSpot: give it time to finish."""
        if error.status is None:
            self._sleep(min(GRACE_AFTER_TIMEOUT_S, max(0.0, deadline.remaining() - MIN_ATTEMPT_S)))

    def _shows_opt_out(
        self, subscriber: str, business_unit_id: int | None, deadline: Deadline, unknown: HubSpotError
    ) -> bool:
        """Whether HubSpot's status shows the opt-out; raises `unknown` when it cannot be read."""
        try:
            status = self.unsubscribe_all_status(
                subscriber, business_unit_id=business_unit_id, deadline=deadline
            )
        except HubSpotError:
            raise unknown from None
        return status.unsubscribed_for(business_unit_id)

    def unsubscribe_all_status(
        self, subscriber: str, *, business_unit_id: int | None = None, deadline: Deadline | None = None
    ) -> UnsubscribeAllStatus:
        url = self._url(("statuses", subscriber, "unsubscribe-all"), business_unit_id)
        response = self._call(
            "unsubscribe_all_status", method="GET", url=url, payload=None, inputs=1, deadline=deadline
        )
        return parse_unsubscribe_all_status(subscriber, response.body)

    def unsubscribe_all_statuses(
        self, subscribers: Sequence[str], *, business_unit_id: int | None = None, deadline: Deadline
    ) -> dict[str, UnsubscribeAllStatus | HubSpotError]:
        """Each subscriber's status, read in batch; one by one where the batch read is refused."""
        statuses: dict[str, UnsubscribeAllStatus | HubSpotError] = {}
        url = self._url(("statuses", "batch", "unsubscribe-all", "read"), business_unit_id)
        for chunk in _chunks(subscribers, self.config.batch_size):
            try:
                response = self._post_inputs("batch_unsubscribe_all_read", url, chunk, deadline)
            except HubSpotError:
                found: Mapping[str, UnsubscribeAllStatus] = {}
            else:
                found = parse_batch_status_read(chunk, response.body)
            statuses.update(found)
            for subscriber in chunk:
                if subscriber not in found:
                    statuses[subscriber] = self._status_or_error(subscriber, business_unit_id, deadline)
        return statuses

    def unsubscribe_all_batch(
        self,
        subscribers: Sequence[str],
        *,
        business_unit_id: int | None = None,
        deadline: Deadline | None = None,
    ) -> BatchAnswer:
        """Unsubscribes many in as few calls as the batch size allows; never raises HubSpotError.

        Inputs HubSpot holds as one subscriber are sent once. A 400 that names its offending inputs
        fails just those, and the rest are sent again; one that names none fails every input of its
        chunk with `batch_wide` set. Inputs the answer does not confirm are confirmed by a status read.
        """
        deadline = deadline or Deadline.after(self.config.default_deadline_s)
        representative: dict[str, str] = {}
        for subscriber in subscribers:
            representative.setdefault(subscriber_key(subscriber), subscriber)
        answer: BatchAnswer = {}
        for chunk in _chunks(list(representative.values()), self.config.batch_size):
            unconfirmed = self._unsubscribe_chunk(chunk, business_unit_id, deadline, answer, isolate=True)
            answer.update(self._confirmed_batch(unconfirmed, business_unit_id, deadline))
        for subscriber in subscribers:
            answer[subscriber] = answer[representative[subscriber_key(subscriber)]]
        return answer

    def _unsubscribe_chunk(
        self,
        chunk: list[str],
        business_unit_id: int | None,
        deadline: Deadline,
        answer: BatchAnswer,
        *,
        isolate: bool,
    ) -> list[str]:
        """Sends one chunk, settling what HubSpot's answer settles; returns the inputs left unconfirmed."""
        url = self._url(("statuses", "batch", "unsubscribe-all"), business_unit_id)
        try:
            response = self._post_inputs("batch_unsubscribe_all", url, chunk, deadline, write=True)
        except PermanentError as error:
            by_key = {subscriber_key(subscriber): subscriber for subscriber in chunk}
            offending = subscribers_named_in(error.body, by_key) if isolate else set()
            for subscriber in offending:
                answer[subscriber] = PermanentError(
                    error.message, status=error.status, category=error.category
                )
            rest = [subscriber for subscriber in chunk if subscriber not in offending]
            if offending and rest:
                return self._unsubscribe_chunk(rest, business_unit_id, deadline, answer, isolate=False)
            if not offending:
                for subscriber in chunk:
                    answer[subscriber] = PermanentError(
                        error.message, batch_wide=True, status=error.status, category=error.category
                    )
            return []
        except HubSpotError as error:
            if error.may_have_applied:
                self._grace_for_unanswered(error, deadline)
                return chunk
            for subscriber in chunk:
                answer[subscriber] = error
            return []
        reading = read_batch_answer(chunk, response.body)
        answer.update(reading.done)
        answer.update(reading.failed)
        return reading.unconfirmed

    def _confirmed_batch(
        self, subscribers: Sequence[str], business_unit_id: int | None, deadline: Deadline
    ) -> BatchAnswer:
        if not subscribers:
            return {}
        settled: BatchAnswer = {}
        for subscriber, status in self.unsubscribe_all_statuses(
            subscribers, business_unit_id=business_unit_id, deadline=deadline
        ).items():
            if isinstance(status, HubSpotError):
                settled[subscriber] = TransientError(_UNCONFIRMED, may_have_applied=True)
            elif status.unsubscribed_for(business_unit_id):
                settled[subscriber] = confirmed_by_status(subscriber)
            else:
                settled[subscriber] = TransientError(_NOT_CONFIRMED)
        return settled

    def _status_or_error(
        self, subscriber: str, business_unit_id: int | None, deadline: Deadline
    ) -> UnsubscribeAllStatus | HubSpotError:
        try:
            return self.unsubscribe_all_status(
                subscriber, business_unit_id=business_unit_id, deadline=deadline
            )
        except HubSpotError as error:
            return error

    def _post_inputs(
        self, operation: str, url: str, inputs: list[str], deadline: Deadline, *, write: bool = False
    ) -> _Response:
        return self._call(
            operation,
            method="POST",
            url=url,
            payload={"inputs": inputs},
            inputs=len(inputs),
            deadline=deadline,
            write=write,
        )

    def _url(self, segments: Sequence[str], business_unit_id: int | None) -> str:
        # Each segment is percent-encoded whole (safe=""), so an email's / ? # % stay inside it.
        path = "/".join(quote(segment, safe="") for segment in segments)
        query: dict[str, str] = {"channel": "EMAIL"}
        if business_unit_id is not None:
            query["businessUnitId"] = str(business_unit_id)
        # Without it HubSpot may answer without the detail that says what it did.
        query["verbose"] = "true"
        return f"{self._prefix}/{path}?{urlencode(query)}"

    def _call(
        self,
        operation: str,
        *,
        method: str,
        url: str,
        payload: Mapping[str, Any] | None,
        inputs: int,
        deadline: Deadline | None,
        write: bool = False,
    ) -> _Response:
        """Performs one operation with retries; returns a 2xx answer or raises HubSpotError.

        A write whose attempt may have been carried out (`may_have_applied`) is never sent again
        here: the caller confirms with a status read first.
        """
        deadline = deadline or Deadline.after(self.config.default_deadline_s)
        body = json.dumps(payload).encode() if payload is not None else None
        attempt = 1
        token_refreshed = False
        while True:
            token = checked_token(self._tokens.token())
            try:
                return self._attempt(
                    operation,
                    token=token,
                    method=method,
                    url=url,
                    body=body,
                    inputs=inputs,
                    deadline=deadline,
                )
            except AuthenticationError:
                if token_refreshed:
                    raise
                self._tokens.refresh(token)
                token_refreshed = True
                continue
            except HubSpotError as error:
                if isinstance(error, RateLimitedError) and error.is_daily:
                    self._pacer.stop_for_the_day()
                elif isinstance(error, RateLimitedError):
                    self._pacer.pause(
                        error.retry_after_s, error.policy or RateLimitPolicy.TEN_SECONDLY_ROLLING
                    )
                delay = self._retry.delay_before_retry(error, attempt)
                if (
                    (write and error.may_have_applied)
                    or delay is None
                    or not deadline.allows(delay + MIN_ATTEMPT_S)
                ):
                    raise
                self._sleep(delay)
                attempt += 1

    def _attempt(
        self,
        operation: str,
        *,
        token: str,
        method: str,
        url: str,
        body: bytes | None,
        inputs: int,
        deadline: Deadline,
    ) -> _Response:
        if not deadline.allows(MIN_ATTEMPT_S):
            raise TransientError(f"{operation}: no time left to call HubSpot")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self._pacer.slot(deadline, self._retry.max_rate_limit_wait_s) as slot:
                remaining = deadline.remaining()
                if remaining < MIN_ATTEMPT_S:
                    raise TransientError(f"{operation}: no time left to call HubSpot")
                timeout = urllib3.Timeout(
                    connect=min(self.config.connect_timeout_s, remaining),
                    read=min(self.config.read_timeout_s, remaining),
                )
                started = time.monotonic()
                raw = self._pool.request(
                    method, url, body=body, headers=headers, timeout=timeout, redirect=False
                )
                slot.headers = raw.headers
        except SlotWaitTooLongError as waiting:
            raise RateLimitedError(
                str(waiting), retry_after_s=waiting.wait_s, policy=waiting.policy
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            # urllib3's own message can hold the URL, and so the email: name the failure only. A
            # timeout or a connection lost once the request was on its way leaves its fate unknown.
            error: HubSpotError = TransientError(
                f"{operation}: {type(exc).__name__} talking to HubSpot",
                may_have_applied=not isinstance(exc, _NEVER_SENT),
            )
            self._record(operation, None, started, inputs, error)
            raise error from None
        response = _Response(raw.status, raw.headers, _json_object(raw.data))
        if 200 <= response.status < 300:
            self._record(operation, response.status, started, inputs, None)
            return response
        error = error_from_response(response.status, response.headers, response.body, self._daily_reset)
        self._record(operation, response.status, started, inputs, error)
        raise error

    def _record(
        self, operation: str, status: int | None, started: float, inputs: int, error: HubSpotError | None
    ) -> None:
        if self._observer is not None:
            duration = time.monotonic() - started
            self._observer(CallRecord(operation, status, duration, inputs, error.kind if error else None))
