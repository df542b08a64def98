"""HubSpot calls per 1,000 unsubscribes through the queue: batch mode, single mode, and naive."""

from __future__ import annotations

from bench.context import Bench
from bench.queue_run import QueueRun, run_queue
from bench.report import Figure, Measured

# Enough to make calls overlap as they do against HubSpot, little enough to keep the run short.
LATENCY_MS = 20.0
BATCH_GOAL = 12
# moto scans the whole queue on every receive, so the local pollers cannot gather 100 messages in
# the template's 1 s window (SQS can); a longer window lets them, for batches as full as on AWS.
BATCHING_WINDOW_S = "5"


def _per_thousand(run: QueueRun) -> Measured:
    return Measured(run.calls_per_thousand, f"{run.calls_per_thousand:,.1f}")


def measure(bench: Bench) -> list[Figure]:
    messages = bench.plan.queue_messages
    runs: dict[str, QueueRun] = {}
    for name, parameters in (
        ("batch", {"HubSpotBatchMode": "auto", "QueueMaximumBatchingWindowInSeconds": BATCHING_WINDOW_S}),
        ("single", {"HubSpotBatchMode": "off"}),
        ("naive", {}),
    ):
        bench.fresh_sandbox(latency_ms=LATENCY_MS)
        stack = bench.stack(**parameters)
        runs[name] = run_queue(bench, stack, stack.naive() if name == "naive" else stack.function, messages)
    naive = {"naive": _per_thousand(runs["naive"])}
    method = {
        "messages": messages,
        "sandbox_latency_ms": LATENCY_MS,
        "trigger": "template's SQS event: BatchSize, MaximumBatchingWindowInSeconds, MaximumConcurrency",
    }
    batch, single = runs["batch"], runs["single"]
    return [
        Figure(
            key="calls_per_1000_batch",
            title="HubSpot calls per 1,000 unsubscribes, queue, batch mode",
            function=_per_thousand(batch),
            goal=f"≤ {BATCH_GOAL}",
            met=batch.calls_per_thousand <= BATCH_GOAL and batch.all_unsubscribed_once,
            baselines=naive,
            details={
                **method,
                "batching_window_s": BATCHING_WINDOW_S,
                "function": batch.details(),
                "naive": runs["naive"].details(),
            },
        ),
        Figure(
            key="calls_per_1000_single",
            title="HubSpot calls per 1,000 unsubscribes, queue, single mode",
            function=_per_thousand(single),
            goal="= 1,000 (no duplicate calls)",
            met=len(single.calls) == messages and single.all_unsubscribed_once,
            baselines=naive,
            details={**method, "function": single.details(), "naive": runs["naive"].details()},
        ),
    ]
