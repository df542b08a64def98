"""How much each figure measures: the full run, and the quick one that keeps the benchmark alive in CI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool
    queue_messages: int  # unsubscribes sent through the queue per calls-per-1,000 figure
    latency_samples: int  # timed invocations per batch-latency variant
    round_trips: int  # raw calls timed for "one round trip"
    throughput_s: float  # measured span of each throughput run
    # The sandbox's rate limit for it: calls per window, the window, and HubSpot's latency.
    rate_limit: int
    rate_window_ms: int
    rate_latency_ms: float
    warm_batches: int  # timed batches of 100 per CPU variant, after the cold one
    cold_starts: int  # fresh processes per cold-start variant
    breakdowns: int  # more of them, instrumented, to say where a cold start's time goes
    one_click_clicks: int  # links clicked (and their pages opened) for the one-click latency
    hostile_body_repeats: int  # parses of each worst-case message body
    # Measurements that explain a figure rather than make it (the pacer alone, the package without bytecode).
    diagnostics: bool
    enqueue_lines: tuple[int, int]  # rows of the two lists enqueued, to show memory flat as a list grows
    enqueue_moto_lines: int  # rows sent to moto's SQS (slow: it walks the queue on every send)


FULL = Plan(
    quick=False,
    queue_messages=1000,
    latency_samples=9,
    round_trips=30,
    throughput_s=30.0,
    # HubSpot's limit for Professional and Enterprise accounts, its latency as observed (100-200 ms).
    rate_limit=190,
    rate_window_ms=10_000,
    rate_latency_ms=150.0,
    warm_batches=5,
    cold_starts=5,
    breakdowns=3,
    one_click_clicks=300,
    hostile_body_repeats=21,
    diagnostics=True,
    enqueue_lines=(10_000, 100_000),
    enqueue_moto_lines=1_000,
)
QUICK = Plan(
    quick=True,
    queue_messages=50,
    latency_samples=1,
    round_trips=5,
    throughput_s=1.0,
    # The same proportions in a tenth of the time.
    rate_limit=190,
    rate_window_ms=1_000,
    rate_latency_ms=15.0,
    warm_batches=1,
    cold_starts=1,
    breakdowns=1,
    one_click_clicks=20,
    hostile_body_repeats=3,
    diagnostics=False,
    enqueue_lines=(200, 2_000),
    enqueue_moto_lines=100,
)
