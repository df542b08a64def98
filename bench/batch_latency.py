"""Wall time of one SQS batch of 10 at 100 ms of HubSpot latency, in round trips.

"One round trip" is the raw baseline's median single call at that latency. Each variant is
warmed by one invocation first (cold start is its own figure), then invoked with fresh messages
from the queue, so no record is an idempotent replay.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from bench.baselines.raw import RawClient
from bench.context import Bench
from bench.messages import received_event
from bench.report import Figure, Measured
from bench.stacks import Stack, environment_applied
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import InvocationStatus, LambdaInvoker

LATENCY_MS = 100.0
BATCH = 10
SINGLE_GOAL = 2.5
BATCH_GOAL = 2.0


def _invocation_times_s(bench: Bench, stack: Stack, function: FunctionDefinition) -> list[float]:
    sqs = bench.sqs()
    with environment_applied(stack.environment):
        invoker = LambdaInvoker(function)
        times = []
        for sample in range(bench.plan.latency_samples + 1):
            invocation = invoker.invoke(received_event(sqs, stack.resources, BATCH))
            if invocation.status is not InvocationStatus.RETURNED or invocation.response["batchItemFailures"]:
                raise RuntimeError(f"{function.handler} did not settle a batch of {BATCH}: {invocation}")
            if sample:  # the first one warms the environment up
                times.append(invocation.duration_s)
        invoker.close()
    return times


def _in_round_trips(seconds: float, round_trip_s: float) -> Measured:
    ratio = seconds / round_trip_s
    return Measured(ratio, f"{ratio:.2f}x ({seconds * 1000:.0f} ms)")


def _median_of(samples: Callable[[], float], count: int) -> float:
    return statistics.median(samples() for _ in range(count))


def measure(bench: Bench) -> list[Figure]:
    bench.fresh_sandbox(latency_ms=LATENCY_MS)
    raw = RawClient(bench.servers.hubspot_base_url, bench.servers.hubspot_token)
    round_trip_s = statistics.median(raw.round_trips_s(bench.plan.round_trips))
    samples = bench.plan.latency_samples
    raw_parallel_s = _median_of(lambda: raw.parallel_s(BATCH), samples)
    raw_batch_s = _median_of(lambda: raw.batch_s(BATCH), samples)

    single_stack, batch_stack = bench.stack(HubSpotBatchMode="off"), bench.stack(HubSpotBatchMode="auto")
    medians = {
        "single": statistics.median(_invocation_times_s(bench, single_stack, single_stack.function)),
        "batch": statistics.median(_invocation_times_s(bench, batch_stack, batch_stack.function)),
        "naive": statistics.median(_invocation_times_s(bench, single_stack, single_stack.naive())),
    }
    if bench.plan.diagnostics:
        # What the batch costs without HubSpot's latency, and single mode with a thread per record.
        wide_stack = bench.stack(HubSpotBatchMode="off", HubSpotMaxConcurrency=str(BATCH))
        medians[f"single_max_concurrency_{BATCH}"] = statistics.median(
            _invocation_times_s(bench, wide_stack, wide_stack.function)
        )
        bench.fresh_sandbox()
        medians["single_latency_0"] = statistics.median(
            _invocation_times_s(bench, single_stack, single_stack.function)
        )
        medians["batch_latency_0"] = statistics.median(
            _invocation_times_s(bench, batch_stack, batch_stack.function)
        )
    details: dict[str, Any] = {
        "sandbox_latency_ms": LATENCY_MS,
        "one_round_trip_ms": round(round_trip_s * 1000, 1),
        "samples": samples,
        "median_ms": {name: round(value * 1000, 1) for name, value in medians.items()},
        "raw_parallel_singles_ms": round(raw_parallel_s * 1000, 1),
        "raw_one_batch_call_ms": round(raw_batch_s * 1000, 1),
    }
    naive = _in_round_trips(medians["naive"], round_trip_s)
    return [
        Figure(
            key="batch_of_10_single_mode",
            title=f"wall time of an SQS batch of 10, {LATENCY_MS:.0f} ms latency, single mode (x round trip)",
            function=_in_round_trips(medians["single"], round_trip_s),
            goal=f"≤ {SINGLE_GOAL}x",
            met=medians["single"] <= SINGLE_GOAL * round_trip_s,
            baselines={"naive": naive, "raw": _in_round_trips(raw_parallel_s, round_trip_s)},
            details={**details, "raw_is": f"{BATCH} single calls in parallel"},
        ),
        Figure(
            key="batch_of_10_batch_mode",
            title=f"wall time of an SQS batch of 10, {LATENCY_MS:.0f} ms latency, batch mode (x round trip)",
            function=_in_round_trips(medians["batch"], round_trip_s),
            goal=f"≤ {BATCH_GOAL}x",
            met=medians["batch"] <= BATCH_GOAL * round_trip_s,
            baselines={"naive": naive, "raw": _in_round_trips(raw_batch_s, round_trip_s)},
            details={**details, "raw_is": f"one batch call of {BATCH}"},
        ),
    ]
