"""Cold start: handler import and first invocation in a fresh process, less the network waits.

Each sample is a new process (bench/probe.py) that imports the handler from its package only,
without writing bytecode, and invokes it with one record; the time some thread spent inside a
socket call (moto on loopback, the sandbox at zero latency) is taken off. The function's package
is sam build's output, which holds no bytecode, so every cold start compiles it, as on Lambda,
whose /var/task is read-only: the same package compiled ahead of time is measured beside it.
"""

from __future__ import annotations

import compileall
import shutil
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from py_compile import PycInvalidationMode
from typing import Any

from bench.context import Bench
from bench.packages import Package
from bench.probing import run_probes
from bench.report import Figure, Measured, NotAvailable
from bench.stacks import Stack

GOAL_MS = 300


def _sample_ms(probe: dict[str, Any]) -> dict[str, float]:
    imported, first = probe["import"], probe["invocations"][0]
    return {
        "cold_start": imported["wall_s"] + first["wall_s"] - imported["socket_s"] - first["socket_s"],
        "import": imported["wall_s"] - imported["socket_s"],
        "first_invocation": first["wall_s"] - first["socket_s"],
        "cpu": imported["cpu_s"] + first["cpu_s"],
        "network_waits": imported["socket_s"] + first["socket_s"],
    }


def _medians_ms(probes: list[dict[str, Any]]) -> dict[str, float]:
    samples = [_sample_ms(probe) for probe in probes]
    return {name: round(statistics.median(s[name] for s in samples) * 1000, 1) for name in samples[0]}


def _cold_starts(
    bench: Bench, package: Package | NotAvailable, stack: Stack
) -> dict[str, float] | NotAvailable:
    probes = run_probes(bench, package, stack, [1], bench.plan.cold_starts)
    return probes if isinstance(probes, NotAvailable) else _medians_ms(probes)


def _precompiled(bench: Bench, stack: Stack, build: Path) -> dict[str, float] | NotAvailable:
    """The same package with its bytecode compiled ahead of time (what closes most of the gap)."""
    with tempfile.TemporaryDirectory(prefix="bench-compiled-") as folder:
        copy = Path(folder) / build.name
        shutil.copytree(build, copy)
        compileall.compile_dir(
            copy,
            quiet=1,
            workers=0,
            invalidation_mode=PycInvalidationMode.UNCHECKED_HASH,
        )
        return _cold_starts(bench, replace(bench.packages.function, paths=(copy,)), stack)


def _cell(medians: dict[str, float] | NotAvailable) -> Measured | NotAvailable:
    if isinstance(medians, NotAvailable):
        return medians
    return Measured(medians["cold_start"], f"{medians['cold_start']:.0f} ms")


def measure(bench: Bench) -> list[Figure]:
    bench.fresh_sandbox()
    stack = bench.stack()
    packages = bench.packages
    results = {
        "function": _cold_starts(bench, packages.function, stack),
        "naive": _cold_starts(bench, packages.naive, stack),
        "hubspot-sdk": _cold_starts(bench, packages.sdk, stack),
    }
    if packages.build is not None and bench.plan.diagnostics:
        results["function_precompiled"] = _precompiled(bench, stack, packages.build)
    function, sdk = results["function"], results["hubspot-sdk"]
    met = (
        not isinstance(function, NotAvailable)
        and function["cold_start"] <= GOAL_MS
        and (isinstance(sdk, NotAvailable) or function["cold_start"] < sdk["cold_start"])
    )
    return [
        Figure(
            key="cold_start",
            title="cold start: import and first invocation, less network waits (fresh process, median)",
            function=_cell(function),
            goal=f"≤ {GOAL_MS} ms and below hubspot-sdk",
            met=met,
            baselines={"naive": _cell(results["naive"]), "hubspot-sdk": _cell(sdk)},
            details={
                "samples": bench.plan.cold_starts,
                "package": packages.function.origin,
                "median_ms": {
                    name: value if isinstance(value, dict) else value.reason
                    for name, value in results.items()
                },
            },
        )
    ]
