"""Runs bench/probe.py in a fresh process for one package, on a scenario's resources."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.packages import Package
from bench.report import NotAvailable
from bench.spec_process import ProbeError, run_with_spec
from bench.stacks import Stack

PROBE = Path(__file__).resolve().parent / "probe.py"
PROBE_TIMEOUT_S = 300


# What a breakdown counts as reading the settings, in the function's package.
SETTINGS_TARGETS = [("optout.settings", "Settings", "from_environment", "settings")]


def run_probe(
    bench: Bench, package: Package, stack: Stack, sizes: Sequence[int], *, breakdown: bool = False
) -> dict[str, Any]:
    """Imports the package's handler in a fresh process and invokes it once per size; with
    `breakdown`, says what each phase spent its time on (see probe.py), untimed otherwise."""
    spec = {
        "paths": [str(path) for path in package.paths],
        "handler": package.handler,
        "queue_arn": stack.resources.queue_arn,
        "invocations": list(sizes),
        "breakdown": breakdown,
        "targets": SETTINGS_TARGETS,
    }
    result = run_with_spec(
        [str(package.python), "-I", "-S", "-B", str(PROBE)],
        spec,
        env={**bench.process_environment, **stack.environment},
        timeout_s=PROBE_TIMEOUT_S,
        what=f"{package.name} probe",
    )
    unsettled = sum(invocation["failures"] for invocation in result["invocations"])
    if unsettled:
        raise ProbeError(f"{package.name} left {unsettled} records unsettled")
    return result


def run_probes(
    bench: Bench,
    package: Package | NotAvailable,
    stack: Stack,
    sizes: Sequence[int],
    count: int,
    *,
    breakdown: bool = False,
) -> list[dict[str, Any]] | NotAvailable:
    """`count` fresh processes; a baseline that cannot run is n/a, with the reason."""
    if isinstance(package, NotAvailable):
        return package
    try:
        return [run_probe(bench, package, stack, sizes, breakdown=breakdown) for _ in range(count)]
    except ProbeError as error:
        if package.name == "function":
            raise
        return NotAvailable(str(error)[:200])
