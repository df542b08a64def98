"""HubSpot's unsubscribe-all operations (no SDK speaks the v4 paths), and when to believe them.

The client asks HubSpot for what it needs (`verbose=true` on every write and read) and believes
an unsubscribe only when HubSpot says it is done; an answer that does not say so, or a write whose
fate is unknown, is confirmed with a status read before the caller hears of it, and a write is
sent again only when that read shows it was not applied. Each call goes through the transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import urllib3

from optout.deadline import Deadline
from optout.hubspot.error_mapping import is_already_unsubscribed
from optout.hubspot.errors import HubSpotError, PermanentError, TransientError
from optout.hubspot.pacing import RateLimitPacer
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
from optout.hubspot.token_source import TokenSource
from optout.hubspot.transport import MIN_ATTEMPT_S, CallObserver, ClientConfig, HubSpotTransport
from optout.outcomes import Unsubscribed

# Each input of a batch unsubscribe-all, exactly as given, mapped to its result or its error.
BatchAnswer = dict[str, Unsubscribed | HubSpotError]
_NOT_CONFIRMED = "HubSpot's answer did not confirm the unsubscribe, and its status does not show it yet"
_UNCONFIRMED = "HubSpot's answer did not confirm the unsubscribe"
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
        self._transport = HubSpotTransport(
            tokens, config, retry=retry, pacer=pacer, observer=observer, pool=pool, sleep=sleep
        )
        self.config = self._transport.config

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.config.base_url!r}, api_version={self.config.api_version!r})"

    def renew_after_restore(self) -> None:
        """For a copy restored from a SnapStart snapshot (see the transport)."""
        self._transport.renew_after_restore()

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
        url = self._transport.url(("statuses", subscriber, "unsubscribe-all"), business_unit_id)
        attempt = 1
        while True:
            try:
                response = self._transport.call(
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
            delay = self._transport.retry.delay_before_retry(not_applied, attempt)
            if delay is None or not deadline.allows(delay + MIN_ATTEMPT_S):
                raise not_applied
            self._transport.sleep(delay)
            attempt += 1

    def _grace_for_unanswered(self, error: HubSpotError, deadline: Deadline) -> None:
        """A call that got no answer may still be running at HubSpot: give it time to finish."""
        if error.status is None:
            self._transport.sleep(min(GRACE_AFTER_TIMEOUT_S, max(0.0, deadline.remaining() - MIN_ATTEMPT_S)))

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
        url = self._transport.url(("statuses", subscriber, "unsubscribe-all"), business_unit_id)
        response = self._transport.call(
            "unsubscribe_all_status", method="GET", url=url, payload=None, inputs=1, deadline=deadline
        )
        return parse_unsubscribe_all_status(subscriber, response.body)

    def unsubscribe_all_statuses(
        self, subscribers: Sequence[str], *, business_unit_id: int | None = None, deadline: Deadline
    ) -> dict[str, UnsubscribeAllStatus | HubSpotError]:
        """Each subscriber's status, read in batch; one by one where the batch read is refused."""
        statuses: dict[str, UnsubscribeAllStatus | HubSpotError] = {}
        url = self._transport.url(("statuses", "batch", "unsubscribe-all", "read"), business_unit_id)
        for chunk in _chunks(subscribers, self.config.batch_size):
            try:
                response = self._transport.post_inputs("batch_unsubscribe_all_read", url, chunk, deadline)
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
        url = self._transport.url(("statuses", "batch", "unsubscribe-all"), business_unit_id)
        try:
            response = self._transport.post_inputs("batch_unsubscribe_all", url, chunk, deadline, write=True)
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
