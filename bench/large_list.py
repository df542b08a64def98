"""`unsubscribe-all enqueue` on a long list: lines per second, and peak memory flat as the file grows.

Each run is a fresh process (bench/enqueue_probe.py) on a CSV under a header, one address a row,
with an invalid address every 200 rows and a repeat every 250 (so every path of the reading is
taken). The list is enqueued in full with SQS answered at once (the CLI's own cost: reading,
checking, repeats, messages, checkpoints), read as a dry run, and sent to moto's SQS. moto is no
measure of SQS: its SendMessageBatch slows as the queue fills (it walks the whole queue), so it
gets a short list only, and its rate says what moto does, not what SQS would.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.report import Figure, Measured
from bench.spec_process import run_with_spec

ROOT = Path(__file__).resolve().parents[1]
PROBE_TIMEOUT_S = 1800
INVALID_EVERY = 200
REPEAT_EVERY = 250
FLAT_GOAL_MB = 5
KILOBYTES_PER_MB = 1024


def write_list(folder: Path, rows: int) -> Path:
    path = folder / f"leavers-{rows}.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["name", "email"])
        for row in range(1, rows + 1):
            if row % INVALID_EVERY == 0:
                email = f"person.{row}@@example.com"
            elif row % REPEAT_EVERY == 0:
                email = f"PERSON.{row // 2}@example.com"
            else:
                email = f"person.{row}@example.com"
            writer.writerow([f"Person {row}", email])
    return path


def _probe(bench: Bench, spec: dict[str, Any]) -> dict[str, Any]:
    return run_with_spec(
        [sys.executable, "-m", "bench.enqueue_probe"],
        spec,
        env=bench.process_environment,
        timeout_s=PROBE_TIMEOUT_S,
        what=f"enqueue probe {spec['mode']}",
        cwd=ROOT,
    )


def _summary(result: dict[str, Any], rows: int) -> dict[str, Any]:
    lines = rows + 1  # the header
    return {
        "lines": lines,
        "seconds": round(result["seconds"], 2),
        "lines_per_second": round(lines / result["seconds"]),
        "peak_rss_mb": round(result["peak_rss_kb"] / KILOBYTES_PER_MB, 1),
        "rss_after_imports_mb": round(result["baseline_rss_kb"] / KILOBYTES_PER_MB, 1),
        "exit_code": result["code"],
    }


def _local_state(folder: Path, bench: Bench, queue_url: str, dead_letter_queue_url: str) -> Path:
    path = folder / "local-stack.json"
    state = {
        "awsEndpointUrl": bench.servers.aws_environment["AWS_ENDPOINT_URL"],
        "region": bench.servers.aws_environment.get("AWS_DEFAULT_REGION", "us-east-1"),
        "queueUrl": queue_url,
        "deadLetterQueueUrl": dead_letter_queue_url,
    }
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def measure(bench: Bench) -> list[Figure]:
    small, large = bench.plan.enqueue_lines
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as temporary:
        folder = Path(temporary)
        for rows in (small, large):
            path = write_list(folder, rows)
            # The dry run first: the full run leaves a finished checkpoint, and nothing to do after it.
            for mode in ("dry-run", "instant-sqs"):
                spec = {"file": str(path), "mode": mode, "queueUrl": "https://sqs.invalid/123456789012/bench"}
                runs[f"{mode} {rows}"] = _summary(_probe(bench, spec), rows)
        stack = bench.stack()
        resources = stack.resources
        state = _local_state(folder, bench, resources.queue_url, resources.dead_letter_queue_url)
        moto_rows = bench.plan.enqueue_moto_lines
        moto_list = write_list(folder, moto_rows)
        runs[f"moto {moto_rows}"] = _summary(
            _probe(bench, {"file": str(moto_list), "mode": "moto", "localState": str(state)}), moto_rows
        )
    full, dry, moto = runs[f"instant-sqs {large}"], runs[f"dry-run {large}"], runs[f"moto {moto_rows}"]
    small_full = runs[f"instant-sqs {small}"]
    method = {
        "rows": {"small": small, "large": large, "moto": moto_rows},
        "invalid_every": INVALID_EVERY,
        "repeat_every": REPEAT_EVERY,
        "instant-sqs": "the whole enqueue path, SendMessageBatch acknowledged at once by a stand-in",
        "dry-run": "enqueue --dry-run: read, checked, repeats found, nothing sent",
        "moto": "enqueue to moto's SQS over HTTP; moto walks the whole queue on every SendMessageBatch",
        "runs": runs,
    }
    peak_growth_mb = full["peak_rss_mb"] - small_full["peak_rss_mb"]
    return [
        Figure(
            key="enqueue_lines_per_second",
            title=f"unsubscribe-all enqueue, {large:,} lines: lines per second (SQS answering at once)",
            function=Measured(
                full["lines_per_second"],
                f"{full['lines_per_second']:,}/s (dry run {dry['lines_per_second']:,}/s; "
                f"moto SQS, {moto_rows:,} lines: {moto['lines_per_second']:,}/s)",
            ),
            goal="reported",
            met=None,
            details=method,
        ),
        Figure(
            key="enqueue_peak_rss",
            title=f"peak RSS of unsubscribe-all enqueue, {large:,} lines beside {small:,}",
            function=Measured(
                full["peak_rss_mb"],
                f"{full['peak_rss_mb']:.0f} MB ({small:,} lines: {small_full['peak_rss_mb']:.0f} MB)",
            ),
            goal=f"flat: ≤ {small:,} lines' + {FLAT_GOAL_MB} MB",
            met=peak_growth_mb <= FLAT_GOAL_MB,
            details={**method, "peak_growth_mb": round(peak_growth_mb, 1)},
        ),
    ]
