"""CPU time per record and peak memory, from one fresh process per variant at zero latency.

Each process imports its handler and runs a batch of 100 (peak RSS is read right after it: the
import and one batch, what a 128 MB function must hold), then `warm_batches` more, whose CPU
time (all threads, `time.process_time`) per record is the CPU figure. The function runs in its
default batch mode; raw is one bare call per record, in this process.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.baselines.raw import RawClient
from bench.context import Bench
from bench.probing import run_probes
from bench.report import Cell, Figure, Measured, NotAvailable

BATCH = 100
CPU_GOAL_VS_NAIVE = 1.5
RSS_GOAL_MB = 100
RAW_CALLS = 200


def _cpu_ms_per_record(probe: dict[str, Any]) -> float:
    cpu_s: float = statistics.median(invocation["cpu_s"] for invocation in probe["invocations"][1:])
    return cpu_s / BATCH * 1000


def _peak_mb(probe: dict[str, Any]) -> float:
    kilobytes: int = probe["invocations"][0]["max_rss_kb"]
    return kilobytes / 1024


def _cells(probes: dict[str, dict[str, Any] | NotAvailable]) -> tuple[dict[str, Cell], dict[str, Cell]]:
    cpu: dict[str, Cell] = {}
    memory: dict[str, Cell] = {}
    for name, probe in probes.items():
        if isinstance(probe, NotAvailable):
            cpu[name] = memory[name] = probe
        else:
            ms = _cpu_ms_per_record(probe)
            cpu[name] = Measured(ms, f"{ms:.2f} ms")
            mb = _peak_mb(probe)
            memory[name] = Measured(mb, f"{mb:.0f} MB")
    return cpu, memory


def measure(bench: Bench) -> list[Figure]:
    bench.fresh_sandbox()
    stack = bench.stack()
    sizes = [BATCH] * (1 + bench.plan.warm_batches)
    packages = bench.packages
    probes: dict[str, dict[str, Any] | NotAvailable] = {}
    for name, package in (
        ("function", packages.function),
        ("naive", packages.naive),
        ("hubspot-sdk", packages.sdk),
    ):
        runs = run_probes(bench, package, stack, sizes, 1)
        probes[name] = runs if isinstance(runs, NotAvailable) else runs[0]
    raw = (
        RawClient(bench.servers.hubspot_base_url, bench.servers.hubspot_token).cpu_per_call_s(RAW_CALLS)
        * 1000
    )
    cpu, memory = _cells(probes)
    function_cpu, naive_cpu = cpu.pop("function"), cpu["naive"]
    function_memory = memory.pop("function")
    details = {
        "records_per_batch": BATCH,
        "warm_batches": bench.plan.warm_batches,
        "sandbox_latency_ms": 0,
        "package": packages.function.origin,
        "probes": {
            name: probe if isinstance(probe, dict) else probe.reason for name, probe in probes.items()
        },
    }
    cpu_met = (
        isinstance(function_cpu, Measured)
        and isinstance(naive_cpu, Measured)
        and function_cpu.value <= CPU_GOAL_VS_NAIVE * naive_cpu.value
    )
    return [
        Figure(
            key="cpu_per_record",
            title="CPU time per record in the handler (latency 0, idempotency on, batches of 100)",
            function=function_cpu,
            goal=f"≤ {CPU_GOAL_VS_NAIVE}x naive",
            met=cpu_met,
            baselines={**cpu, "raw": Measured(raw, f"{raw:.2f} ms")},
            details={**details, "raw_is": "one bare urllib3 call per record, CPU of this process"},
        ),
        Figure(
            key="peak_rss_batch_of_100",
            title="peak RSS of a fresh process: import and one batch of 100",
            function=function_memory,
            goal=f"≤ {RSS_GOAL_MB} MB",
            met=isinstance(function_memory, Measured) and function_memory.value <= RSS_GOAL_MB,
            baselines=memory,
            details=details,
        ),
    ]
