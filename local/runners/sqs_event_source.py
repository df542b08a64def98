"""The Lambda SQS event source mapping, locally: pollers that batch messages, invoke, and delete.

Each poller long-polls the queue, gathers up to BatchSize messages (ReceiveMessage returns at
most 10) for at most MaximumBatchingWindowInSeconds after the first one, invokes the function
with the batch, and deletes only the messages it did not report in `batchItemFailures`. An
invocation that raises or overruns its timeout deletes nothing. What is not deleted comes back
after its visibility timeout (or sooner, if the function shortened it), and the queue's redrive
policy moves it to the dead-letter queue after maxReceiveCount receives. There are as many
pollers as ScalingConfig.MaximumConcurrency, so that many invocations run at once at most.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from itertools import count
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from local.lifecycle import StartStop
from local.runners.function_definition import SqsTrigger
from local.runners.lambda_invoker import InvocationStatus, LambdaInvoker
from local.runners.sqs_batch import failed_message_ids, sqs_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef, MessageTypeDef

logger = logging.getLogger(__name__)

# Lambda polls with the function's role; this names its calls apart from the function's own, in the
# User-Agent, for the local permission check.
USER_AGENT_APP_ID = "lambda-event-source"
CLIENT_CONFIG = Config(user_agent_appid=USER_AGENT_APP_ID)  # type: ignore[call-arg]  # stubs lag botocore
RECEIVE_LIMIT = 10  # messages one ReceiveMessage returns at most
DELETE_LIMIT = 10  # entries one DeleteMessageBatch takes at most
# Lambda long-polls for 20 s; a short wait lets the pollers stop promptly and costs nothing locally.
DEFAULT_POLL_WAIT_S = 1
# Between empty short polls near the end of a batching window.
SHORT_POLL_PAUSE_S = 0.05
ERROR_BACKOFF_S = 1.0
DRAIN_RECHECK_S = 0.2

# Given an invocation's number (from 1), the seconds after which it is cut off, or None for the
# function's timeout: a way to make chosen invocations overrun.
TimeoutOverride = Callable[[int], float | None]


@dataclass(frozen=True)
class QueueRef:
    url: str
    arn: str
    region: str


@dataclass
class EventSourceStats:
    invocations: int = 0
    messages_received: int = 0
    messages_deleted: int = 0
    messages_failed: int = 0  # received by an invocation and left on the queue afterwards
    timeouts: int = 0
    errors: int = 0  # invocations that raised
    peak_concurrency: int = 0


class SqsEventSource(StartStop):
    def __init__(
        self,
        sqs: SQSClient,
        queue: QueueRef,
        invoker: LambdaInvoker,
        trigger: SqsTrigger,
        *,
        poll_wait_s: int = DEFAULT_POLL_WAIT_S,
        timeout_override: TimeoutOverride | None = None,
    ) -> None:
        self._sqs = sqs
        self._queue = queue
        self._invoker = invoker
        self._trigger = trigger
        self._poll_wait_s = poll_wait_s
        self._timeout_override = timeout_override
        self._stopping = threading.Event()
        self._pollers: list[threading.Thread] = []
        self._invocation_numbers = count(1)
        # Guards everything below; notified whenever a batch is received or settled.
        self._changed = threading.Condition()
        self._stats = EventSourceStats()
        self._receive_counts: Counter[str] = Counter()
        self._deleted: set[str] = set()
        self._batches_in_flight = 0
        self._invocations_running = 0

    def start(self) -> None:
        if self._pollers:
            raise RuntimeError("the event source is already running")
        self._stopping.clear()
        self._pollers = [
            threading.Thread(target=self._poll, name=f"sqs-poller-{number}", daemon=True)
            for number in range(1, self._trigger.max_concurrency + 1)
        ]
        for poller in self._pollers:
            poller.start()

    def stop(self) -> None:
        """Stops polling; an invocation in progress is waited for and settled first."""
        self._stopping.set()
        for poller in self._pollers:
            poller.join()
        self._pollers = []

    def stats(self) -> EventSourceStats:
        """A snapshot of the counters."""
        with self._changed:
            return replace(self._stats)

    def receive_counts(self) -> dict[str, int]:
        """How many times each message (by MessageId) was received by this event source."""
        with self._changed:
            return dict(self._receive_counts)

    def deleted_message_ids(self) -> set[str]:
        with self._changed:
            return set(self._deleted)

    def wait_until_received(self, message_ids: Collection[str], timeout_s: float) -> bool:
        """Waits until each message was received at least once and every batch is settled."""
        with self._changed:
            return self._changed.wait_for(
                lambda: (
                    self._batches_in_flight == 0 and all(self._receive_counts[id_] for id_ in message_ids)
                ),
                timeout=timeout_s,
            )

    def wait_until_drained(self, timeout_s: float) -> bool:
        """Waits until the queue holds no message (visible, in flight or delayed) and no batch is
        being gathered or processed; False if that did not happen within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._changed:
                if not self._changed.wait_for(
                    lambda: self._batches_in_flight == 0, timeout=max(0.0, deadline - time.monotonic())
                ):
                    return False
            if self._queue_is_empty():
                with self._changed:
                    if self._batches_in_flight == 0:
                        return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Messages come back when their visibility timeout ends, which nothing here signals.
            with self._changed:
                self._changed.wait(min(DRAIN_RECHECK_S, remaining))

    def _queue_is_empty(self) -> bool:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._queue.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values()) == 0

    # The pollers

    def _poll(self) -> None:
        while not self._stopping.is_set():
            batch = self._gather_batch()
            if not batch:
                continue
            try:
                if not self._stopping.is_set():
                    self._invoke(batch)
            finally:
                with self._changed:
                    self._batches_in_flight -= 1
                    self._changed.notify_all()

    def _gather_batch(self) -> list[MessageTypeDef]:
        """Up to BatchSize messages, gathered for at most the batching window after the first."""
        batch: list[MessageTypeDef] = []
        window_ends: float | None = None
        while len(batch) < self._trigger.batch_size and not self._stopping.is_set():
            remaining = None if window_ends is None else window_ends - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            wait_s = self._poll_wait_s if remaining is None else min(self._poll_wait_s, int(remaining))
            try:
                received = self._receive(
                    min(RECEIVE_LIMIT, self._trigger.batch_size - len(batch)), wait_s, starts_batch=not batch
                )
            except (BotoCoreError, ClientError) as error:
                logger.warning("receiving from the queue failed: %s", error)
                if batch:
                    break
                self._stopping.wait(ERROR_BACKOFF_S)
                continue
            if received and window_ends is None:
                window_ends = time.monotonic() + self._trigger.batching_window_s
            batch += received
            if not received and remaining is not None and wait_s == 0:
                self._stopping.wait(min(SHORT_POLL_PAUSE_S, remaining))
        return batch

    def _receive(self, max_messages: int, wait_s: int, *, starts_batch: bool) -> list[MessageTypeDef]:
        messages = self._sqs.receive_message(
            QueueUrl=self._queue.url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            with self._changed:
                self._batches_in_flight += int(starts_batch)
                self._receive_counts.update(message["MessageId"] for message in messages)
                self._stats.messages_received += len(messages)
                self._changed.notify_all()
        return messages

    def _invoke(self, batch: Sequence[MessageTypeDef]) -> None:
        number = next(self._invocation_numbers)
        event = sqs_event(batch, self._queue.arn, self._queue.region)
        give_up_after_s = self._timeout_override(number) if self._timeout_override else None
        with self._changed:
            self._invocations_running += 1
            self._stats.invocations += 1
            self._stats.peak_concurrency = max(self._stats.peak_concurrency, self._invocations_running)
        try:
            invocation = self._invoker.invoke(event, give_up_after_s=give_up_after_s)
        finally:
            with self._changed:
                self._invocations_running -= 1
        ids = [message["MessageId"] for message in batch]
        if invocation.status is InvocationStatus.RETURNED:
            failed = failed_message_ids(
                invocation.response, ids, report_batch_item_failures=self._trigger.report_batch_item_failures
            )
        else:
            logger.warning(
                "invocation %d %s: its %d messages stay on the queue", number, invocation.status, len(ids)
            )
            failed = set(ids)
        deleted = self._delete([message for message in batch if message["MessageId"] not in failed])
        with self._changed:
            self._deleted.update(deleted)
            self._stats.messages_deleted += len(deleted)
            self._stats.messages_failed += len(batch) - len(deleted)
            self._stats.timeouts += int(invocation.status is InvocationStatus.TIMED_OUT)
            self._stats.errors += int(invocation.status is InvocationStatus.RAISED)

    def _delete(self, messages: Sequence[MessageTypeDef]) -> set[str]:
        """Deletes the messages; returns the MessageIds SQS confirmed."""
        deleted: set[str] = set()
        for start in range(0, len(messages), DELETE_LIMIT):
            chunk = messages[start : start + DELETE_LIMIT]
            entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(chunk)
            ]
            try:
                response = self._sqs.delete_message_batch(QueueUrl=self._queue.url, Entries=entries)
            except (BotoCoreError, ClientError) as error:
                logger.warning("deleting %d processed messages failed: %s", len(chunk), error)
                continue
            for failure in response.get("Failed", []):
                logger.warning("SQS kept a processed message: %s", failure.get("Code"))
            deleted.update(chunk[int(entry["Id"])]["MessageId"] for entry in response.get("Successful", []))
        return deleted
