"""Wall time of one SQS batch of 10 at 100 ms of HubSpot latency, in round trips.

"One round trip" is the raw baseline's median single call at that latency. Each variant is
warmed by one invocation first (cold start is its own figure), then invoked with fresh messages
from the queue, so no record is an idempotent replay.

The function's invocations are also cut into phases, from its store calls (timed apart,
bench/aws_calls.py) and the sandbox's call log: until its last claim is written, from there to
its first HubSpot call, its HubSpot calls, and from the last answer to the end (the successes
written, the outcomes reported). With diagnostics on, both modes run again against a stand-in for
the table that answers after DynamoDB's few milliseconds, side by side (bench/store_stand_in.py),
where moto serves one request after another: what the figure would be on DynamoDB.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bench.aws_calls import AwsCall, recorded
from bench.baselines.raw import RawClient
from bench.context import Bench
from bench.messages import received_event
from bench.report import Figure, Measured, markdown_rows
from bench.servers import store_stand_in
from bench.stacks import Stack, environment_applied
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import InvocationStatus, LambdaInvoker

LATENCY_MS = 100.0
BATCH = 10
GOAL = 1.5
# DynamoDB's latency for a single-item write from Lambda in the same region: single-digit ms.
STAND_IN_LATENCY_MS = 5.0
PHASES = ("claims written", "to the first HubSpot call", "HubSpot calls", "after the last answer")


def _phases_ms(
    started: float, ended: float, aws_calls: Sequence[AwsCall], hubspot_calls: Sequence[tuple[float, float]]
) -> dict[str, float]:
    """An invocation's time, cut at its last claim, its first HubSpot call and its last answer."""
    claims = [
        call.ended for call in aws_calls if call.operation == "PutItem" and started <= call.started < ended
    ]
    inside = [(start, end) for start, end in hubspot_calls if started <= start < ended]
    claimed = max(claims, default=started)
    first_call = min((start for start, _ in inside), default=claimed)
    last_answer = max((end for _, end in inside), default=first_call)
    cuts = [started, claimed, first_call, last_answer, ended]
    return {phase: round((cuts[n + 1] - cuts[n]) * 1000, 1) for n, phase in enumerate(PHASES)}


def _invocations(
    bench: Bench, stack: Stack, function: FunctionDefinition
) -> tuple[list[float], list[dict[str, float]]]:
    """Each timed invocation's wall time, and its phases (at the sandbox's LATENCY_MS)."""
    sqs = bench.sqs()
    with environment_applied(stack.environment), recorded() as aws_calls:
        invoker = LambdaInvoker(function)
        times, windows = [], []
        for sample in range(bench.plan.latency_samples + 1):
            event = received_event(sqs, stack.resources, BATCH)
            started = time.time()
            invocation = invoker.invoke(event)
            ended = time.time()
            if invocation.status is not InvocationStatus.RETURNED or invocation.response["batchItemFailures"]:
                raise RuntimeError(f"{function.handler} did not settle a batch of {BATCH}: {invocation}")
            if sample:  # the first one warms the environment up
                times.append(invocation.duration_s)
                windows.append((started, ended))
        invoker.close()
    answered = [datetime.fromisoformat(call["at"]).timestamp() for call in bench.servers.sandbox.calls()]
    hubspot_calls = [(at - LATENCY_MS / 1000, at) for at in answered]
    phases = [_phases_ms(started, ended, aws_calls, hubspot_calls) for started, ended in windows]
    return times, phases


def _invocation_times_s(bench: Bench, stack: Stack, function: FunctionDefinition) -> list[float]:
    times, _ = _invocations(bench, stack, function)
    return times


def _median_phases(phases: Sequence[dict[str, float]]) -> dict[str, float]:
    return {phase: statistics.median(sample[phase] for sample in phases) for phase in PHASES}


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
    single_times, single_phases = _invocations(bench, single_stack, single_stack.function)
    batch_times, batch_phases = _invocations(bench, batch_stack, batch_stack.function)
    medians = {
        "single": statistics.median(single_times),
        "batch": statistics.median(batch_times),
        "naive": statistics.median(_invocation_times_s(bench, single_stack, single_stack.naive())),
    }
    # Each variant's phases and wall time, by the label the explanation gives it.
    phases = {"single mode": _median_phases(single_phases), "batch mode": _median_phases(batch_phases)}
    walls = {"single mode": medians["single"], "batch mode": medians["batch"]}
    if bench.plan.diagnostics:
        # What the batch costs without HubSpot's latency, and single mode with a thread per record.
        wide_stack = bench.stack(HubSpotBatchMode="off", HubSpotMaxConcurrency=str(BATCH))
        medians[f"single_max_concurrency_{BATCH}"] = statistics.median(
            _invocation_times_s(bench, wide_stack, wide_stack.function)
        )
        with store_stand_in(STAND_IN_LATENCY_MS, bench.process_environment) as table_url:
            for mode, stack in (("single", single_stack), ("batch", batch_stack)):
                on_stand_in = dataclasses.replace(
                    stack, environment={**stack.environment, "AWS_ENDPOINT_URL_DYNAMODB": table_url}
                )
                times, stand_in_phases = _invocations(bench, on_stand_in, on_stand_in.function)
                label = f"{mode} mode, store stand-in at {STAND_IN_LATENCY_MS:.0f} ms"
                medians[f"{mode}_store_stand_in_{STAND_IN_LATENCY_MS:.0f}_ms"] = statistics.median(times)
                phases[label] = _median_phases(stand_in_phases)
                walls[label] = statistics.median(times)
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
        "phases_median_ms": phases,
    }
    explanation = markdown_rows(
        ["ms, median of the timed invocations", *PHASES, "wall time"],
        [
            [
                label,
                *(f"{phases[label][phase]:.0f}" for phase in PHASES),
                _in_round_trips(wall, round_trip_s).text,
            ]
            for label, wall in walls.items()
        ],
    )
    naive = _in_round_trips(medians["naive"], round_trip_s)
    return [
        Figure(
            key="batch_of_10_single_mode",
            title=f"wall time of an SQS batch of 10, {LATENCY_MS:.0f} ms latency, single mode (x round trip)",
            function=_in_round_trips(medians["single"], round_trip_s),
            goal=f"≤ {GOAL}x",
            met=medians["single"] <= GOAL * round_trip_s,
            baselines={"naive": naive, "raw": _in_round_trips(raw_parallel_s, round_trip_s)},
            details={**details, "raw_is": f"{BATCH} single calls in parallel"},
        ),
        Figure(
            key="batch_of_10_batch_mode",
            title=f"wall time of an SQS batch of 10, {LATENCY_MS:.0f} ms latency, batch mode (x round trip)",
            function=_in_round_trips(medians["batch"], round_trip_s),
            goal=f"≤ {GOAL}x",
            met=medians["batch"] <= GOAL * round_trip_s,
            baselines={"naive": naive, "raw": _in_round_trips(raw_batch_s, round_trip_s)},
            details={**details, "raw_is": f"one batch call of {BATCH}"},
            explanation=explanation,
        ),
    ]
