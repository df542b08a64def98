"""Cold start: handler import and first invocation in a fresh process, less the network waits.

Each sample is a new process (bench/probe.py) that imports the handler from its package only,
without writing bytecode, and invokes it with one record; the time some thread spent inside a
socket call (moto on loopback, the sandbox at zero latency) is taken off. The function's package
is `sam build`'s output, whose bytecode is compiled in (Lambda's /var/task is read-only, so a
package without it compiles every module at every cold start); the hubspot-sdk baseline runs
with the bytecode pip compiled into its venv, so all three start alike. With diagnostics on, the
function's package is measured again without its bytecode, as SAM's default Python build would
leave it.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
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


def _without_bytecode(
    bench: Bench, stack: Stack, build: Path, folder: Path
) -> dict[str, float] | NotAvailable:
    """The function's package as SAM's default Python build would leave it: no __pycache__."""
    copy = folder / build.name
    shutil.copytree(build, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return _cold_starts(bench, replace(bench.packages.function, paths=(copy,)), stack)


def _reported(results: dict[str, Any]) -> dict[str, Any]:
    """Medians as they are, an unavailable variant as its reason."""
    return {
        name: value.reason if isinstance(value, NotAvailable) else value for name, value in results.items()
    }


def _cell(medians: dict[str, float] | NotAvailable) -> Measured | NotAvailable:
    if isinstance(medians, NotAvailable):
        return medians
    return Measured(medians["cold_start"], f"{medians['cold_start']:.0f} ms")


def measure(bench: Bench) -> list[Figure]:
    bench.fresh_sandbox()
    stack = bench.stack()
    packages = bench.packages
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as folder:
        results: dict[str, Any] = {
            "function": _cold_starts(bench, packages.function, stack),
            "naive": _cold_starts(bench, packages.naive, stack),
            "hubspot-sdk": _cold_starts(bench, packages.sdk, stack),
        }
        if packages.build is not None and bench.plan.diagnostics:
            results["function_without_bytecode"] = _without_bytecode(
                bench, stack, packages.build, Path(folder)
            )
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
                "median_ms": _reported(results),
            },
        )
    ]
