"""One HubSpot call, done well: the token, the pacing, the timeouts, the retries, the answer.

One transport per process owns a pooled connection manager reused across calls, retries only
what can succeed by retrying, paces itself inside its share of the account's rate limits, and
never lets a call outlive the caller's deadline. A write whose attempt may have been carried out
unseen is never retried here: the operations (`client.py`) confirm it with a status read first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from optout.deadline import Deadline
from optout.hubspot.daily_reset import DailyReset
from optout.hubspot.error_mapping import error_from_response
from optout.hubspot.errors import AuthenticationError, HubSpotError, RateLimitedError, TransientError
from optout.hubspot.pacing import RateLimitPacer, SlotWaitTooLongError
from optout.hubspot.retry import RetryPolicy
from optout.hubspot.token_source import TokenSource, checked_token
from optout.hubspot.versions import validate_api_version
from optout.outcomes import RateLimitPolicy

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Below this, an attempt cannot finish: give up rather than start it.
MIN_ATTEMPT_S = 0.05
# Transport failures that happen before a request leaves: HubSpot cannot have seen it.
_NEVER_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)


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


@dataclass(frozen=True, slots=True)
class HubSpotAnswer:
    """A 2xx answer: its status, headers and JSON body (an object; anything else reads as empty)."""

    status: int
    headers: Mapping[str, str]
    body: Mapping[str, Any]


def _json_object(data: bytes) -> Mapping[str, Any]:
    try:
        decoded = json.loads(data) if data else {}
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


class HubSpotTransport:
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
        return f"HubSpotTransport(base_url={self.config.base_url!r}, api_version={self.config.api_version!r})"

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def renew_after_restore(self) -> None:
        """For a copy restored from a SnapStart snapshot: connections of its own, opened on its next
        call, and jitter of its own, so copies of one snapshot do not retry in step."""
        self._pool.clear()
        self._retry.rng.seed()

    def post_inputs(
        self, operation: str, url: str, inputs: list[str], deadline: Deadline, *, write: bool = False
    ) -> HubSpotAnswer:
        return self.call(
            operation,
            method="POST",
            url=url,
            payload={"inputs": inputs},
            inputs=len(inputs),
            deadline=deadline,
            write=write,
        )

    def url(self, segments: Sequence[str], business_unit_id: int | None) -> str:
        # Each segment is percent-encoded whole (safe=""), so an email's / ? # % stay inside it.
        path = "/".join(quote(segment, safe="") for segment in segments)
        query: dict[str, str] = {"channel": "EMAIL"}
        if business_unit_id is not None:
            query["businessUnitId"] = str(business_unit_id)
        # Without it HubSpot may answer without the detail that says what it did.
        query["verbose"] = "true"
        return f"{self._prefix}/{path}?{urlencode(query)}"

    def call(
        self,
        operation: str,
        *,
        method: str,
        url: str,
        payload: Mapping[str, Any] | None,
        inputs: int,
        deadline: Deadline | None,
        write: bool = False,
    ) -> HubSpotAnswer:
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
    ) -> HubSpotAnswer:
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
        response = HubSpotAnswer(raw.status, raw.headers, _json_object(raw.data))
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
