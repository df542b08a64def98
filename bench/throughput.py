"""Throughput at HubSpot's rate limit: single mode, the template's pollers, work enough throughout.

The sandbox allows the plan's calls per rolling window: HubSpot's own limit for Professional and
Enterprise accounts, 190 per 10 s, at 150 ms of latency (100-200 ms observed). Those proportions
decide what the figure means: the function keeps a reserve of the window for the account's other
integrations (1 - its window share) and for the calls its other containers may have in flight
(pollers - 1 times its concurrency, 10 of 190 here); at a limit of 50 those 10 calls would be a
fifth of the window rather than a twentieth. The figure is the allowed calls per second over
what the function's share of the window allows (the template's 90 %), with the share of calls
answered 429, over `throughput_s` starting one window after the first call (the first window's
burst is not the steady rate).

Pollers (the template's MaximumConcurrency) invoke the handler back to back with full batches of
fresh records, directly rather than through the local SQS event source: moto's ReceiveMessage
scans the whole queue (0.5 s for 10 messages with 1,000 waiting here), so a backlog starves the
event source long before the rate limit binds. Raw hammers the limit without pacing from as many
threads as the function has in flight; naive is the textbook handler with the same pollers.
"Pacer only" is the function's HubSpot client without any AWS work, one per container: what the
pacing itself achieves.

The function's run also records its invocations and its AWS calls: the explanation lists what
each invocation did and puts every moment without a HubSpot call in flight down to a cause
(bench/rate_limit_timeline.py).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench import rate_limit_timeline as timeline
from bench.aws_calls import AwsCall, recorded
from bench.baselines.raw import RawClient
from bench.context import Bench
from bench.probe import sqs_event
from bench.report import Figure, Measured
from bench.stacks import Stack, environment_applied
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import InvocationStatus, LambdaInvoker
from optout.deadline import Deadline
from optout.hubspot.client import HubSpotClient
from optout.hubspot.errors import HubSpotError
from optout.hubspot.pacing import RateLimitPacer
from optout.hubspot.token_source import StaticToken
from optout.hubspot.transport import ClientConfig

RATE_GOAL = 0.9
REJECTED_GOAL = 0.01
# Before the first call: the cold start of each poller's environment.
STARTUP_S = 2.0


@dataclass(frozen=True)
class Run:
    """One variant's run: the sandbox's call log, and for the function what it did meanwhile."""

    calls: list[dict[str, Any]]
    invocations: list[timeline.Invocation]
    aws_calls: list[AwsCall]


def _at(call: dict[str, Any]) -> float:
    return datetime.fromisoformat(call["at"]).timestamp()


def _span(calls: Sequence[dict[str, Any]], window_s: float, span_s: float) -> timeline.Span:
    """`span_s` from one window after the first call."""
    start = min((_at(call) for call in calls), default=0.0) + window_s
    return timeline.Span(start, start + span_s)


def steady_span(calls: Sequence[dict[str, Any]], window_s: float, span_s: float) -> dict[str, Any]:
    """Allowed calls per second and the 429 share over the measured span."""
    span = _span(calls, window_s, span_s)
    inside = [call for call in calls if span.start <= _at(call) < span.end]
    rejected = sum(1 for call in inside if call["status"] == 429)
    return {
        "allowed_per_s": (len(inside) - rejected) / span_s,
        "rejected_share": rejected / len(inside) if inside else 0.0,
        "calls": len(inside),
        "rejected": rejected,
    }


def _fresh_sandbox(bench: Bench) -> None:
    plan = bench.plan
    bench.fresh_sandbox(
        latency_ms=plan.rate_latency_ms, rate_limit=plan.rate_limit, rate_window_ms=plan.rate_window_ms
    )


def _subscribers(event: dict[str, Any]) -> frozenset[str]:
    return frozenset(json.loads(record["body"])["subscriberIdString"] for record in event["Records"])


def _invoked_back_to_back(bench: Bench, stack: Stack, function: FunctionDefinition) -> Run:
    """Each poller invokes the handler with a full batch of fresh records as soon as the last ends."""
    _fresh_sandbox(bench)
    trigger = function.sqs_trigger
    ends = time.monotonic() + STARTUP_S + bench.plan.rate_window_ms / 1000 + bench.plan.throughput_s
    invocations: list[timeline.Invocation] = []

    def poll(poller: int) -> None:
        number = 0
        while time.monotonic() < ends:
            event = sqs_event(trigger.batch_size, stack.resources.queue_arn)
            started = time.time()
            invocation = invoker.invoke(event)
            if invocation.status is not InvocationStatus.RETURNED:
                raise RuntimeError(
                    f"{function.handler}: an invocation {invocation.status}: {invocation.error}"
                )
            retried = len(invocation.response.get("batchItemFailures", []))
            invocations.append(
                timeline.Invocation(poller, number, started, time.time(), _subscribers(event), retried)
            )
            number += 1

    with environment_applied(stack.environment), recorded() as aws_calls:
        invoker = LambdaInvoker(function)
        with ThreadPoolExecutor(trigger.max_concurrency, thread_name_prefix="bench-poller") as pollers:
            for poller in [pollers.submit(poll, n) for n in range(trigger.max_concurrency)]:
                poller.result()
        invoker.close()
    return Run(bench.servers.sandbox.calls(), invocations, list(aws_calls))


def _pacer_only(bench: Bench, stack: Stack, containers: int) -> Run:
    """The function's HubSpot client alone, one per container, each as busy as its threads allow
    and pacing itself as the function's runtime sets it up (the others' calls in reserve)."""
    _fresh_sandbox(bench)
    threads = int(stack.environment["HUBSPOT_MAX_CONCURRENCY"])
    config = ClientConfig(base_url=bench.servers.hubspot_base_url, max_connections=threads)
    token = StaticToken(bench.servers.hubspot_token)
    share = _window_share(stack)
    clients = [
        HubSpotClient(token, config, pacer=RateLimitPacer((containers - 1) * threads, window_share=share))
        for _ in range(containers)
    ]
    ends = time.monotonic() + bench.plan.rate_window_ms / 1000 + bench.plan.throughput_s

    def loop(client: HubSpotClient) -> None:
        while time.monotonic() < ends:
            with contextlib.suppress(HubSpotError):
                client.unsubscribe_all(f"pacer-{uuid.uuid4().hex}@example.com", deadline=Deadline.after(30))

    with ThreadPoolExecutor(containers * threads) as pool:
        for done in [pool.submit(loop, client) for client in clients for _ in range(threads)]:
            done.result()
    return Run(bench.servers.sandbox.calls(), [], [])


def _raw(bench: Bench, threads: int) -> Run:
    _fresh_sandbox(bench)
    raw = RawClient(bench.servers.hubspot_base_url, bench.servers.hubspot_token)
    raw.hammer(threads, bench.plan.rate_window_ms / 1000 + bench.plan.throughput_s + 1)
    return Run(bench.servers.sandbox.calls(), [], [])


def _window_share(stack: Stack) -> float:
    return int(stack.environment["HUBSPOT_WINDOW_SHARE_PERCENT"]) / 100


def _limits(bench: Bench, stack: Stack, pollers: int) -> timeline.Limits:
    """The limit, and where the function's pacer stops starting calls (see optout/hubspot/pacing.py)."""
    limit = bench.plan.rate_limit
    others_in_flight = (pollers - 1) * int(stack.environment["HUBSPOT_MAX_CONCURRENCY"])
    reserve = min(limit - 1, math.ceil(round((1 - _window_share(stack)) * limit, 6)) + others_in_flight)
    return timeline.Limits(limit, bench.plan.rate_window_ms / 1000, limit - reserve)


def _hubspot_calls(run: Run, latency_s: float) -> list[timeline.HubSpotCall]:
    """The sandbox logs a call once answered, after its latency."""
    return [
        timeline.HubSpotCall(_at(call) - latency_s, _at(call), call["subscriber"], call["status"])
        for call in run.calls
    ]


def _cell(span: dict[str, Any], share_per_s: float, limit_per_s: float) -> Measured:
    of_share = span["allowed_per_s"] / share_per_s
    of_limit = span["allowed_per_s"] / limit_per_s
    return Measured(
        of_share,
        f"{of_share:.0%} of its share ({span['allowed_per_s']:.1f}/s, {of_limit:.0%} of the limit), "
        f"429: {span['rejected_share']:.1%}",
    )


def measure(bench: Bench) -> list[Figure]:
    plan = bench.plan
    stack = bench.stack(HubSpotBatchMode="off")
    pollers = stack.function.sqs_trigger.max_concurrency
    in_flight = pollers * int(stack.environment["HUBSPOT_MAX_CONCURRENCY"])
    window_s = plan.rate_window_ms / 1000
    limit_per_s = plan.rate_limit / window_s
    share_per_s = _window_share(stack) * limit_per_s
    variants: dict[str, Callable[[], Run]] = {
        "function": lambda: _invoked_back_to_back(bench, stack, stack.function),
        "naive": lambda: _invoked_back_to_back(bench, stack, stack.naive()),
        "raw": lambda: _raw(bench, in_flight),
    }
    if plan.diagnostics:
        variants["pacer_only_1_container"] = lambda: _pacer_only(bench, stack, 1)
        variants[f"pacer_only_{pollers}_containers"] = lambda: _pacer_only(bench, stack, pollers)
    runs = {name: run() for name, run in variants.items()}
    spans = {name: steady_span(run.calls, window_s, plan.throughput_s) for name, run in runs.items()}
    function_run, function = runs["function"], spans["function"]
    span = _span(function_run.calls, window_s, plan.throughput_s)
    calls = _hubspot_calls(function_run, plan.rate_latency_ms / 1000)
    rows = timeline.invocation_rows(function_run.invocations, calls, span)
    quiet = timeline.quiet_moments(
        function_run.invocations, calls, function_run.aws_calls, span, _limits(bench, stack, pollers)
    )
    return [
        Figure(
            key="throughput_at_rate_limit",
            title=(
                f"throughput at the rate limit ({plan.rate_limit} per {plan.rate_window_ms:,} ms, "
                f"{plan.rate_latency_ms:.0f} ms latency, single mode, {pollers} pollers): allowed calls/s "
                f"of the function's share ({_window_share(stack):.0%} of the window), 429 share"
            ),
            function=_cell(function, share_per_s, limit_per_s),
            goal=f"≥ {RATE_GOAL:.0%}, 429 < {REJECTED_GOAL:.0%}",
            met=function["allowed_per_s"] >= RATE_GOAL * share_per_s
            and function["rejected_share"] < REJECTED_GOAL,
            baselines={
                "naive": _cell(spans["naive"], share_per_s, limit_per_s),
                "raw": _cell(spans["raw"], share_per_s, limit_per_s),
            },
            details={
                "rate_limit": plan.rate_limit,
                "window_ms": plan.rate_window_ms,
                "sandbox_latency_ms": plan.rate_latency_ms,
                "window_share": _window_share(stack),
                "share_per_s": share_per_s,
                "measured_span_s": plan.throughput_s,
                "pollers": pollers,
                "raw_threads": in_flight,
                **spans,
                "store_calls": timeline.store_latency_ms(function_run.aws_calls, span),
                "quiet_moments": quiet,
                "invocations": rows,
            },
            explanation=timeline.markdown(rows, quiet),
        )
    ]
