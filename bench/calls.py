"""HubSpot calls per 1,000 unsubscribes through the queue: batch mode, single mode, and naive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from bench.context import Bench
from bench.queue_run import QueueRun, run_queue
from bench.report import Figure, Measured

# Enough to make calls overlap as they do against HubSpot, little enough to keep the run short.
LATENCY_MS = 20.0
BATCH_GOAL = 12
# The coalescer's longest wait for a round, raised for the diagnostic run (the function's is 0.1 s).
DIAGNOSTIC_LINGER_S = 1.0


@contextmanager
def coalescer_linger(seconds: float) -> Iterator[None]:
    """Runtimes built inside wait up to `seconds` for a round's records to arrive. (By name, so the
    function's modules load after the bench has set Powertools' environment, as Lambda does.)"""
    with mock.patch("optout.unsubscribe_service.UnsubscribeService.__init__.__defaults__", (seconds,)):
        yield


def _per_thousand(run: QueueRun) -> Measured:
    return Measured(run.calls_per_thousand, f"{run.calls_per_thousand:,.1f}")


def measure(bench: Bench) -> list[Figure]:
    messages = bench.plan.queue_messages
    runs: dict[str, QueueRun] = {}
    for name, parameters in (
        ("batch", {"HubSpotBatchMode": "auto"}),
        ("single", {"HubSpotBatchMode": "off"}),
        ("naive", {}),
    ):
        bench.fresh_sandbox(latency_ms=LATENCY_MS)
        stack = bench.stack(**parameters)
        runs[name] = run_queue(bench, stack, stack.naive() if name == "naive" else stack.function, messages)
    diagnostics = {}
    if bench.plan.diagnostics:
        bench.fresh_sandbox(latency_ms=LATENCY_MS)
        stack = bench.stack(HubSpotBatchMode="auto")
        with coalescer_linger(DIAGNOSTIC_LINGER_S):
            lingering = run_queue(bench, stack, stack.function, messages)
        diagnostics[f"batch_mode_with_linger_{DIAGNOSTIC_LINGER_S}s"] = {
            "calls_per_1000": lingering.calls_per_thousand,
            **lingering.details(),
        }
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
            details={**method, "function": batch.details(), "naive": runs["naive"].details(), **diagnostics},
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
