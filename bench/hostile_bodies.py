"""A hostile message body's cost: the CPU a producer can make one record spend before it is refused.

A body is read before anything else of its record, so what the worst one costs is what a handful
of them take from an invocation's time (at 256 MB, about 0.15 vCPU). Three worst cases fill the
64 KiB a body may hold: the most keys that fit in one object (8,688, refused for holding too
many), arrays nested as deep as the bytes allow, and a number of 64 K digits; the fourth holds
the most keys one object may hold, the first repeated at the end (found as a repeat). Each is
parsed by the SQS trigger's own reader, in this process, with the garbage collector paused (it
would time the whole heap, not the parser); the figure is the slowest case's median. A
duplicate-key check that counts each key among all (`keys.count`) takes about 0.7 s of CPU on
the key flood here.
"""

from __future__ import annotations

import gc
import statistics
import time

from bench.context import Bench
from bench.report import Figure, Measured
from bench.worst_bodies import WORST_CASES
from optout.domain.request import InvalidRequestError
from optout.triggers.message_body import parse_message_body

GOAL_MS = 50.0


def _refused_in_s(body: str) -> tuple[float, str]:
    """CPU seconds the trigger's reader spends refusing `body`, and the reason it gives."""
    gc.collect()
    gc.disable()
    started = time.thread_time()
    try:
        parse_message_body(body)
    except InvalidRequestError as refused:
        return time.thread_time() - started, refused.reason.value
    finally:
        gc.enable()
    raise RuntimeError("a worst-case body was accepted")


def measure(bench: Bench) -> list[Figure]:
    median_ms: dict[str, float] = {}
    cases: dict[str, dict[str, object]] = {}
    for name, make in WORST_CASES.items():
        body = make()
        timings = [_refused_in_s(body) for _ in range(bench.plan.hostile_body_repeats)]
        median_ms[name] = round(statistics.median(took for took, _ in timings) * 1000, 2)
        cases[name] = {"bytes": len(body.encode()), "reason": timings[0][1], "median_ms": median_ms[name]}
    slowest = max(median_ms, key=median_ms.__getitem__)
    worst_ms = median_ms[slowest]
    return [
        Figure(
            key="hostile_body_cpu",
            title="a worst-case 64 KiB message body refused, CPU (slowest case's median)",
            function=Measured(worst_ms, f"{worst_ms:.1f} ms ({slowest})"),
            goal=f"≤ {GOAL_MS:.0f} ms",
            met=worst_ms <= GOAL_MS,
            details={
                "cases": cases,
                "repeats": bench.plan.hostile_body_repeats,
                "method": "the SQS trigger's reader in this process, thread CPU time, GC paused",
            },
        )
    ]
