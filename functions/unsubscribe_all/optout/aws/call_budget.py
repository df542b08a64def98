"""Every AWS call of the function ends by a deadline, so a slow AWS cannot time the invocation out.

botocore has no timeout per call: each attempt may wait up to its client's connect and read
timeouts, and its standard retries add attempts and sleeps between them. So the clients have
short timeouts (an attempt takes at most `ATTEMPT_S`), and a `CallBudget` watches each call on
the client's own events, against the deadline of the thread making it (set with `until`), else
the invocation's (set with `start_invocation`):

- before each attempt (`request-created`): it starts only if it can end before the deadline,
  else the call fails with `NoTimeLeftError`, a `BotoCoreError` like any other failure to reach
  AWS;
- after a failed attempt (`needs-retry`): there is no retry, and no sleep before one, unless the
  longest backoff and another attempt still fit; the call fails with what the attempt met.

An AWS that accepts connections and never answers (overloaded, half down) so fails each call by
its deadline: its records become retryable instead of the invocation being killed mid-batch.
Successful answers are never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError

from optout.deadline import Deadline

CONNECT_TIMEOUT_S = 1.0
# DynamoDB, SQS and Secrets Manager answer in tens of milliseconds; this is many times that.
READ_TIMEOUT_S = 1.5
ATTEMPT_S = CONNECT_TIMEOUT_S + READ_TIMEOUT_S
# botocore's standard retry mode sleeps up to 2 ** (attempt - 1) seconds after a failed attempt.
_BACKOFF_BASE_S = 2.0


class NoTimeLeftError(BotoCoreError):
    fmt = "no time left for {operation} before the deadline"


class CallBudget:
    def __init__(self) -> None:
        self._invocation: Deadline | None = None
        self._local = threading.local()

    def start_invocation(self, deadline: Deadline) -> None:
        """The deadline of every call that has none of its own, until the next invocation."""
        self._invocation = deadline

    @contextmanager
    def until(self, deadline: Deadline | None) -> Iterator[None]:
        """This thread's calls end by `deadline` while the block runs (None: as they did before)."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = deadline or previous
        try:
            yield
        finally:
            self._local.deadline = previous

    def deadline(self) -> Deadline | None:
        own: Deadline | None = getattr(self._local, "deadline", None)
        return own or self._invocation

    def watch(self, client: Any) -> None:
        """Holds every call of `client` (a botocore client) to the deadline."""
        events = client.meta.events
        events.register("request-created", self._before_attempt)
        events.register_first("needs-retry", self._make_retry_fit(client))

    def _before_attempt(self, operation_name: str, **_: Any) -> None:
        deadline = self.deadline()
        if deadline is not None and not deadline.allows(ATTEMPT_S):
            raise NoTimeLeftError(operation=operation_name)

    def _make_retry_fit(self, client: Any) -> Any:
        def retry_only_if_it_fits(
            response: tuple[Any, dict[str, Any]] | None,
            operation: Any,
            attempts: int,
            caught_exception: Exception | None,
            request_dict: dict[str, Any],
            **_: Any,
        ) -> None:
            deadline = self.deadline()
            if deadline is None or deadline.allows(_BACKOFF_BASE_S ** (attempts - 1) + ATTEMPT_S):
                return
            if caught_exception is not None:
                raise caught_exception
            if response is not None and response[0].status_code >= 300:
                # What the client raises for this answer when it does not retry it.
                parsed = response[1]
                code = request_dict.get("context", {}).get("error_code_override") or parsed.get(
                    "Error", {}
                ).get("Code")
                raise client.exceptions.from_code(code)(parsed, operation.name)

        return retry_only_if_it_fits
