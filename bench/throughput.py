"""Throughput at HubSpot's rate limit: single mode, the template's pollers, work enough throughout.

The sandbox allows RATE_LIMIT calls per WINDOW_MS rolling window. Pollers (the template's
MaximumConcurrency) invoke the handler back to back with full batches of fresh records, and the
sandbox's call log is read afterwards: over a span of `throughput_s` starting one window after
the first call (the first window's burst is not the steady rate), allowed calls per second
against the limit, and the share of calls answered 429.

The pollers invoke directly rather than through the local SQS event source: moto's
ReceiveMessage scans the whole queue (0.5 s for 10 messages with 1,000 waiting here), so a
backlog starves the event source long before the rate limit binds. The latency keeps HubSpot's
proportion of latency to window (100-200 ms in 10 s), so the window is not lost to round trips.

Raw hammers the limit without pacing from as many threads as the function has in flight; naive
is the textbook handler with the same pollers. "Pacer only" is the function's HubSpot client
without any AWS work, one per container: what the pacing itself achieves.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench.baselines.raw import RawClient
from bench.context import Bench
from bench.probe import sqs_event
from bench.report import Figure, Measured
from bench.stacks import Stack, environment_applied
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import InvocationStatus, LambdaInvoker
from optout.deadline import Deadline
from optout.hubspot.client import ClientConfig, HubSpotClient
from optout.hubspot.errors import HubSpotError
from optout.hubspot.pacing import RateLimitPacer
from optout.hubspot.token_source import StaticToken

RATE_LIMIT = 50
WINDOW_MS = 1000
LATENCY_MS = 20.0
RATE_GOAL = 0.9
REJECTED_GOAL = 0.01
# Before the first call: the cold start of each poller's environment.
STARTUP_S = 2.0
# The template's HubSpotMaxConcurrency: threads of one container's client.
CLIENT_THREADS = 10


def _at(call: dict[str, Any]) -> float:
    return datetime.fromisoformat(call["at"]).timestamp()


def steady_span(calls: Sequence[dict[str, Any]], span_s: float) -> dict[str, Any]:
    """Allowed calls per second and the 429 share over `span_s`, from one window after the first call."""
    if not calls:
        return {"allowed_per_s": 0.0, "rejected_share": 0.0, "calls": 0}
    start = min(_at(call) for call in calls) + WINDOW_MS / 1000
    inside = [call for call in calls if start <= _at(call) < start + span_s]
    rejected = sum(1 for call in inside if call["status"] == 429)
    return {
        "allowed_per_s": (len(inside) - rejected) / span_s,
        "rejected_share": rejected / len(inside) if inside else 0.0,
        "calls": len(inside),
        "rejected": rejected,
    }


def _invoked_back_to_back(bench: Bench, stack: Stack, function: FunctionDefinition) -> dict[str, Any]:
    """Each poller invokes the handler with a full batch of fresh records as soon as the last ends."""
    bench.fresh_sandbox(latency_ms=LATENCY_MS, rate_limit=RATE_LIMIT, rate_window_ms=WINDOW_MS)
    trigger = function.sqs_trigger
    ends = time.monotonic() + STARTUP_S + WINDOW_MS / 1000 + bench.plan.throughput_s

    def poll() -> None:
        while time.monotonic() < ends:
            invocation = invoker.invoke(sqs_event(trigger.batch_size, stack.resources.queue_arn))
            if invocation.status is not InvocationStatus.RETURNED:
                raise RuntimeError(
                    f"{function.handler}: an invocation {invocation.status}: {invocation.error}"
                )

    with environment_applied(stack.environment):
        invoker = LambdaInvoker(function)
        with ThreadPoolExecutor(trigger.max_concurrency, thread_name_prefix="bench-poller") as pollers:
            for poller in [pollers.submit(poll) for _ in range(trigger.max_concurrency)]:
                poller.result()
        invoker.close()
    return steady_span(bench.servers.sandbox.calls(), bench.plan.throughput_s)


def _pacer_only(bench: Bench, containers: int) -> dict[str, Any]:
    """The function's HubSpot client alone, one per container, each as busy as its threads allow
    and pacing itself as the function's runtime sets it up (the others' calls in reserve)."""
    bench.fresh_sandbox(latency_ms=LATENCY_MS, rate_limit=RATE_LIMIT, rate_window_ms=WINDOW_MS)
    config = ClientConfig(base_url=bench.servers.hubspot_base_url, max_connections=CLIENT_THREADS)
    token = StaticToken(bench.servers.hubspot_token)
    others_in_flight = (containers - 1) * CLIENT_THREADS
    clients = [
        HubSpotClient(token, config, pacer=RateLimitPacer(others_in_flight)) for _ in range(containers)
    ]
    ends = time.monotonic() + WINDOW_MS / 1000 + bench.plan.throughput_s

    def loop(client: HubSpotClient) -> None:
        while time.monotonic() < ends:
            with contextlib.suppress(HubSpotError):
                client.unsubscribe_all(f"pacer-{uuid.uuid4().hex}@example.com", deadline=Deadline.after(30))

    with ThreadPoolExecutor(containers * CLIENT_THREADS) as threads:
        for done in [threads.submit(loop, client) for client in clients for _ in range(CLIENT_THREADS)]:
            done.result()
    return steady_span(bench.servers.sandbox.calls(), bench.plan.throughput_s)


def _raw(bench: Bench, threads: int) -> dict[str, Any]:
    bench.fresh_sandbox(latency_ms=LATENCY_MS, rate_limit=RATE_LIMIT, rate_window_ms=WINDOW_MS)
    raw = RawClient(bench.servers.hubspot_base_url, bench.servers.hubspot_token)
    raw.hammer(threads, WINDOW_MS / 1000 + bench.plan.throughput_s + 1)
    return steady_span(bench.servers.sandbox.calls(), bench.plan.throughput_s)


def _cell(span: dict[str, Any]) -> Measured:
    share = span["allowed_per_s"] / (RATE_LIMIT * 1000 / WINDOW_MS)
    return Measured(share, f"{share:.0%} ({span['allowed_per_s']:.1f}/s), 429: {span['rejected_share']:.1%}")


def measure(bench: Bench) -> list[Figure]:
    stack = bench.stack(HubSpotBatchMode="off")
    pollers = stack.function.sqs_trigger.max_concurrency
    in_flight = pollers * int(stack.environment["HUBSPOT_MAX_CONCURRENCY"])
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "function": lambda: _invoked_back_to_back(bench, stack, stack.function),
        "naive": lambda: _invoked_back_to_back(bench, stack, stack.naive()),
        "raw": lambda: _raw(bench, in_flight),
    }
    if bench.plan.diagnostics:
        runs["pacer_only_1_container"] = lambda: _pacer_only(bench, 1)
        runs[f"pacer_only_{pollers}_containers"] = lambda: _pacer_only(bench, pollers)
    spans = {name: run() for name, run in runs.items()}
    function = spans["function"]
    return [
        Figure(
            key="throughput_at_rate_limit",
            title=(
                f"throughput at the rate limit ({RATE_LIMIT} per {WINDOW_MS} ms, {LATENCY_MS:.0f} ms "
                f"latency, single mode, {pollers} pollers): allowed calls/s of the limit, 429 share"
            ),
            function=_cell(function),
            goal=f"≥ {RATE_GOAL:.0%}, 429 < {REJECTED_GOAL:.0%}",
            met=function["allowed_per_s"] >= RATE_GOAL * RATE_LIMIT * 1000 / WINDOW_MS
            and function["rejected_share"] < REJECTED_GOAL,
            baselines={"naive": _cell(spans["naive"]), "raw": _cell(spans["raw"])},
            details={
                "rate_limit": RATE_LIMIT,
                "window_ms": WINDOW_MS,
                "sandbox_latency_ms": LATENCY_MS,
                "measured_span_s": bench.plan.throughput_s,
                "pollers": pollers,
                "raw_threads": in_flight,
                **spans,
            },
        )
    ]
