"""`make bench QUICK=1` as CI runs it: every figure in the table and the JSON, so the benchmark cannot rot.

Figures are not checked against their goals here (a benchmark never fails CI on a number), only
that each one was measured, or says why it could not be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = (
    "calls_per_1000_batch",
    "calls_per_1000_single",
    "batch_of_10_single_mode",
    "batch_of_10_batch_mode",
    "throughput_at_rate_limit",
    "cpu_per_record",
    "peak_rss_batch_of_100",
    "cold_start",
    "package_size",
    "enqueue_lines_per_second",
    "enqueue_peak_rss",
    "one_click_latency",
    "hostile_body_cpu",
)
MACHINE = ("cores", "cpu_model", "python", "platform")


@pytest.mark.slow
def test_quick_run_reports_every_figure(tmp_path):
    output = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["mode"] == "quick"
    assert all(document["machine"][name] for name in MACHINE)
    figures = {figure["key"]: figure for figure in document["figures"]}
    assert tuple(figures) == FIGURES
    for figure in figures.values():
        function = figure["function"]
        assert function["value"] is not None or function["reason"], figure["key"]
        assert figure["goal"]

    table, *explanations = run.stdout.split("\n### ")
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(FIGURES)
    for figure in figures.values():
        assert any(line.startswith(f"| {figure['title']} | {figure['function']['text']}") for line in rows)
    # The explanations after the table: where the cold start's time goes
    explained = {text.split("\n", 1)[0]: text for text in explanations}
    cold_start = explained[figures["cold_start"]["title"]]
    assert "| imports |" in cold_start
    assert "| store (DynamoDB calls) |" in cold_start
    # and the function's invocations at the rate limit, with the moments no HubSpot call was in flight
    throughput = explained[figures["throughput_at_rate_limit"]["title"]]
    assert "| poller | invocation |" in throughput
    assert "Moments with no HubSpot call in flight" in throughput
    assert figures["throughput_at_rate_limit"]["details"]["invocations"]
