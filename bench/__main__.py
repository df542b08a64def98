"""`python -m bench [--quick] [--output PATH]`: every figure beside its baselines, in one run.

Prints a Markdown table and writes the same figures, with the machine and the method, as JSON.
The function's own output (JSON logs, EMF metrics) is discarded while measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import boto3

from bench import (
    batch_latency,
    calls,
    cold_start,
    execution,
    hostile_bodies,
    large_list,
    one_click,
    package_size,
    throughput,
)
from bench.context import Bench
from bench.machine import describe_machine
from bench.packages import find_packages
from bench.plan import FULL, QUICK, Plan
from bench.report import Figure, explanations, figure_json, markdown_table
from bench.servers import running_servers
from bench.stacks import environment_applied, static_environment

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
# What a fresh process keeps from ours; Lambda's own variables come from the template.
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "TMPDIR")

Measure = Callable[[Bench], list[Figure]]
MEASURES: tuple[tuple[str, Measure], ...] = (
    ("HubSpot calls per 1,000", calls.measure),
    ("batch of 10 latency", batch_latency.measure),
    ("throughput at the rate limit", throughput.measure),
    ("CPU per record and peak RSS", execution.measure),
    ("cold start", cold_start.measure),
    ("package size", package_size.measure),
    ("enqueue of a long list", large_list.measure),
    ("one-click latency", one_click.measure),
    ("hostile message bodies", hostile_bodies.measure),
)


@contextmanager
def stdout_discarded() -> Iterator[None]:
    """File descriptor 1 goes to /dev/null inside (the function logs to stdout, as on Lambda)."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def measure_all(plan: Plan) -> list[Figure]:
    inherited = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    figures: list[Figure] = []
    with running_servers(inherited) as servers:
        process_environment = {**inherited, **servers.aws_environment, **static_environment()}
        with environment_applied({**servers.aws_environment, **static_environment()}):
            bench = Bench(plan, servers, boto3.session.Session(), find_packages(), process_environment)
            for label, measure in MEASURES:
                started = time.monotonic()
                print(f"bench: {label}…", file=sys.stderr, flush=True)
                figures += measure(bench)
                print(f"bench: {label}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    # Powertools warns when an invocation adds no metric (one whose records all wait for a retry).
    warnings.filterwarnings("ignore", "No application metrics to publish")
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute (CI)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where the JSON goes")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    machine = describe_machine()
    started_at, started = datetime.now(UTC), time.monotonic()
    with stdout_discarded():
        figures = measure_all(plan)
    document = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "mode": "quick" if plan.quick else "full",
        "machine": machine,
        "figures": [figure_json(figure) for figure in figures],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown_table(figures), end="")
    print(explanations(figures), end="")
    print(f"\n{document['mode']} run, {document['duration_s']} s; figures in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
