"""Cold start: handler import and first invocation in a fresh process, less the network waits.

Each sample is a new process (bench/probe.py) that imports the handler from its package only,
without writing bytecode, and invokes it with one record; the time some thread spent inside a
socket call (moto on loopback, the sandbox at zero latency) is taken off. The function's package
is `sam build`'s output, whose bytecode is compiled in (Lambda's /var/task is read-only, so a
package without it compiles every module at every cold start); the hubspot-sdk baseline runs
with the bytecode pip compiled into its venv, so all three start alike. With diagnostics on, the
function's package is measured again without its bytecode, as SAM's default Python build would
leave it.

More fresh processes of the function and the naive handler, instrumented (probe.py's breakdown),
say where the time goes: imports, settings, AWS clients, token, store writes, HubSpot, network
waits and the rest, for the import and the first invocation. They are not among the timed samples.
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
from bench.report import Figure, Measured, NotAvailable, markdown_rows
from bench.stacks import Stack

GOAL_MS = 250
# probe.py's activities, as the breakdown names them.
ACTIVITIES = {
    "imports": "imports",
    "settings": "settings",
    "clients": "AWS clients",
    "token": "token (Secrets Manager calls)",
    "store": "store (DynamoDB calls)",
    "queue": "queue (SQS calls)",
    "hubspot": "HubSpot calls",
    "other": "the rest (handler, Powertools, wiring)",
    "waits": "network waits (left out of the figure)",
}
PHASES = {"import": "import", "first_invocation": "first invocation"}


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


def _breakdown_ms(probes: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median milliseconds per activity, for the import and the first invocation."""
    phases = {"import": [probe["import"] for probe in probes]}
    phases["first_invocation"] = [probe["invocations"][0] for probe in probes]
    return {
        phase: {
            activity: round(statistics.median(run["activities_s"][activity] for run in runs) * 1000, 1)
            for activity in ACTIVITIES
        }
        for phase, runs in phases.items()
    }


Breakdown = dict[str, dict[str, float]]


def _breakdowns(bench: Bench, stack: Stack) -> dict[str, Breakdown | NotAvailable]:
    results: dict[str, Breakdown | NotAvailable] = {}
    for name, package in (("function", bench.packages.function), ("naive", bench.packages.naive)):
        probes = run_probes(bench, package, stack, [1], bench.plan.breakdowns, breakdown=True)
        results[name] = probes if isinstance(probes, NotAvailable) else _breakdown_ms(probes)
    return results


def _breakdown_table(breakdowns: dict[str, Breakdown | NotAvailable], samples: int) -> str:
    measured = {name: value for name, value in breakdowns.items() if not isinstance(value, NotAvailable)}
    columns = [(name, phase) for name in measured for phase in PHASES]
    header = [f"ms, median of {samples} instrumented runs"]
    header += [f"{name}: {PHASES[phase]}" for name, phase in columns]
    rows = [
        [label, *(f"{measured[name][phase][activity]:.0f}" for name, phase in columns)]
        for activity, label in ACTIVITIES.items()
    ]
    return markdown_rows(header, rows)


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
    breakdowns = _breakdowns(bench, stack)
    function, naive = results["function"], results["naive"]
    met = (
        not isinstance(function, NotAvailable)
        and not isinstance(naive, NotAvailable)
        and function["cold_start"] <= GOAL_MS
        and function["cold_start"] < naive["cold_start"]
    )
    return [
        Figure(
            key="cold_start",
            title="cold start: import and first invocation, less network waits (fresh process, median)",
            function=_cell(function),
            goal=f"≤ {GOAL_MS} ms and below naive",
            met=met,
            baselines={"naive": _cell(naive), "hubspot-sdk": _cell(results["hubspot-sdk"])},
            details={
                "samples": bench.plan.cold_starts,
                "package": packages.function.origin,
                "median_ms": _reported(results),
                "breakdown_samples": bench.plan.breakdowns,
                "breakdown_ms": _reported(breakdowns),
            },
            explanation=_breakdown_table(breakdowns, bench.plan.breakdowns),
        )
    ]
