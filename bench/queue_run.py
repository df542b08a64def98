"""Messages through the queue: the local SQS event source invoking a handler until the queue is empty.

The requests go onto the queue as the pollers take them, a few batches ahead: moto's
ReceiveMessage scans every message on the queue, so a deep queue slows each receive until the
batching window closes on part-filled batches, which Lambda's own pollers would have filled.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from bench.context import Bench
from bench.messages import SEND_LIMIT, enqueue
from bench.stacks import Stack, environment_applied
from local.aws.moto_endpoint import REGION
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import LambdaInvoker
from local.runners.sqs_event_source import QueueRef, SqsEventSource

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DRAIN_TIMEOUT_S = 300.0
# How far ahead of the pollers the feeder stays, in batches per poller.
FEED_AHEAD_BATCHES = 1.5
FEED_PAUSE_S = 0.05


class Feeder:
    """Sends `total` requests, keeping about `depth` of them undeleted on the queue."""

    def __init__(
        self, sqs: SQSClient, queue_url: str, source: SqsEventSource, total: int, depth: int
    ) -> None:
        self._sqs, self._queue_url, self._source = sqs, queue_url, source
        self._total, self._depth = total, depth
        self._sent = 0
        self._failure: Exception | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="bench-feeder", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._thread.join()

    def wait(self) -> None:
        """Until every request is on the queue; raises what stopped the feeding."""
        self._thread.join()
        if self._failure is not None:
            raise RuntimeError("feeding the queue failed") from self._failure

    def _feed(self) -> None:
        try:
            while self._sent < self._total and not self._stopping.is_set():
                waiting = self._sent - self._source.stats().messages_deleted
                count = min(self._depth - waiting, self._total - self._sent)
                if count >= min(SEND_LIMIT, self._total - self._sent):
                    enqueue(self._sqs, self._queue_url, count)
                    self._sent += count
                else:
                    self._stopping.wait(FEED_PAUSE_S)
        except Exception as error:  # raised again by wait()
            self._failure = error


@dataclass(frozen=True)
class QueueRun:
    messages: int
    calls: list[dict[str, Any]]  # the sandbox's call log
    unsubscribes: dict[str, int]  # successful calls per subscriber
    invocations: int
    records_received: int
    drained: bool
    elapsed_s: float

    @property
    def calls_per_thousand(self) -> float:
        return len(self.calls) / self.messages * 1000

    @property
    def all_unsubscribed_once(self) -> bool:
        return len(self.unsubscribes) == self.messages and set(self.unsubscribes.values()) == {1}

    def details(self) -> dict[str, Any]:
        batch_sizes = sorted(len(call["inputs"]) for call in self.calls if call["inputs"] is not None)
        return {
            "messages": self.messages,
            "hubspot_calls": len(self.calls),
            "calls_by_operation": dict(Counter(str(call["operation"]) for call in self.calls)),
            "calls_by_status": dict(Counter(str(call["status"]) for call in self.calls)),
            "inputs_per_batch_call": batch_sizes,
            "subscribers_unsubscribed": len(self.unsubscribes),
            "subscribers_unsubscribed_more_than_once": sum(1 for n in self.unsubscribes.values() if n > 1),
            "invocations": self.invocations,
            "mean_records_per_invocation": round(self.records_received / max(1, self.invocations), 1),
            "calls_per_invocation": round(len(self.calls) / max(1, self.invocations), 2),
            "queue_drained": self.drained,
            "elapsed_s": round(self.elapsed_s, 2),
        }


def run_queue(bench: Bench, stack: Stack, function: FunctionDefinition, messages: int) -> QueueRun:
    """Feeds `messages` requests to the queue and lets the event source work until it is empty."""
    sqs = bench.sqs()
    queue = QueueRef(stack.resources.queue_url, stack.resources.queue_arn, REGION)
    trigger = function.sqs_trigger
    depth = int(FEED_AHEAD_BATCHES * trigger.batch_size * trigger.max_concurrency)
    with environment_applied(stack.environment):
        invoker = LambdaInvoker(function)
        started = time.monotonic()
        with (
            SqsEventSource(sqs, queue, invoker, trigger) as source,
            Feeder(sqs, queue.url, source, messages, depth) as feeder,
        ):
            feeder.wait()
            drained = source.wait_until_drained(DRAIN_TIMEOUT_S)
            elapsed = time.monotonic() - started
        invoker.close()
    stats = source.stats()
    if stats.errors or stats.timeouts:
        raise RuntimeError(
            f"{function.handler}: {stats.errors} invocations raised, {stats.timeouts} timed out"
        )
    return QueueRun(
        messages=messages,
        calls=bench.servers.sandbox.calls(),
        unsubscribes=bench.servers.sandbox.successful_unsubscribes(),
        invocations=stats.invocations,
        records_received=stats.messages_received,
        drained=drained,
        elapsed_s=elapsed,
    )
