"""Messages through the queue: the local SQS event source invoking a handler until the queue is empty."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.context import Bench
from bench.messages import enqueue
from bench.stacks import Stack, environment_applied
from local.function_definition import FunctionDefinition
from local.lambda_invoker import LambdaInvoker
from local.moto_endpoint import REGION
from local.sqs_event_source import QueueRef, SqsEventSource

DRAIN_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class QueueRun:
    messages: int
    calls: list[dict[str, Any]]  # the sandbox's call log
    unsubscribes: dict[str, int]  # successful calls per subscriber
    invocations: int
    drained: bool
    elapsed_s: float

    @property
    def calls_per_thousand(self) -> float:
        return len(self.calls) / self.messages * 1000

    @property
    def all_unsubscribed_once(self) -> bool:
        return len(self.unsubscribes) == self.messages and set(self.unsubscribes.values()) == {1}

    def details(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "hubspot_calls": len(self.calls),
            "calls_by_operation": dict(Counter(str(call["operation"]) for call in self.calls)),
            "calls_by_status": dict(Counter(str(call["status"]) for call in self.calls)),
            "subscribers_unsubscribed": len(self.unsubscribes),
            "subscribers_unsubscribed_more_than_once": sum(1 for n in self.unsubscribes.values() if n > 1),
            "invocations": self.invocations,
            "queue_drained": self.drained,
            "elapsed_s": round(self.elapsed_s, 2),
        }


def run_queue(bench: Bench, stack: Stack, function: FunctionDefinition, messages: int) -> QueueRun:
    """Sends `messages` requests, then lets the event source work until the queue is empty."""
    sqs = bench.sqs()
    enqueue(sqs, stack.resources.queue_url, messages)
    queue = QueueRef(stack.resources.queue_url, stack.resources.queue_arn, REGION)
    with environment_applied(stack.environment):
        invoker = LambdaInvoker(function)
        started = time.monotonic()
        with SqsEventSource(sqs, queue, invoker, function.sqs_trigger) as source:
            drained = source.wait_until_drained(DRAIN_TIMEOUT_S)
            elapsed = time.monotonic() - started
        invoker.close()
    return QueueRun(
        messages=messages,
        calls=bench.servers.sandbox.calls(),
        unsubscribes=bench.servers.sandbox.successful_unsubscribes(),
        invocations=source.stats().invocations,
        drained=drained,
        elapsed_s=elapsed,
    )
