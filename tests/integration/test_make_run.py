"""`make run` end to end: `python -m local.run` in a subprocess, with --once and serving until SIGINT."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.demo.messages import demo_steps

REPO = Path(__file__).resolve().parents[2]
ONCE_TIMEOUT_S = 60.0
SERVE_READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def run_environment() -> dict[str, str]:
    """This environment without a real HubSpot token (the demo needs the sandbox)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("HUBSPOT_")}


def local_run(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "local.run", "--api-port", "0", *arguments]


class OutputLines:
    """A subprocess's stdout lines, awaited one by one with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r}; output so far:\n" + "\n".join(self.seen))

    def rest(self) -> list[str]:
        """Every line, once the process has closed its output."""
        self._reader.join(STOP_TIMEOUT_S)
        while (line := self._lines.get_nowait()) is not None:
            self.seen.append(line)
        return self.seen


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], OutputLines]]:
    process = subprocess.Popen(
        local_run("--run-dir", str(tmp_path)),
        cwd=REPO,
        env=run_environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, OutputLines(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_make_run_once_runs_the_demo_and_exits_0_when_every_message_is_as_expected(tmp_path):
    # Given the demo's messages
    count = sum(len(step.messages) for step in demo_steps())

    # When `make run ONCE=1` runs
    started = time.monotonic()
    finished = subprocess.run(
        local_run("--once", "--run-dir", str(tmp_path)),
        cwd=REPO,
        env=run_environment(),
        capture_output=True,
        text=True,
        timeout=ONCE_TIMEOUT_S,
        check=False,
    )
    took_s = time.monotonic() - started

    # Then it exits 0 well under a minute, with a summary of every message
    output = finished.stdout
    assert finished.returncode == 0, output + finished.stderr
    assert took_s < ONCE_TIMEOUT_S
    assert f"All {count} messages reached their expected outcome." in output
    for outcome in (
        "unsubscribed",
        "already unsubscribed",
        "duplicate replayed",
        "dead-lettered (INVALID_EMAIL)",
        "dead-lettered (HUBSPOT_REJECTED)",
        "then unsubscribed",
    ):
        assert outcome in output, outcome
    assert re.search(r"^HubSpot: \d+ calls \(.*429", output, re.MULTILINE)
    assert re.search(r"^Queue: \d+ invocations", output, re.MULTILINE)
    # And a one-click link was minted, opened (changing nothing) and clicked twice for one HubSpot call
    assert "The one-click link: its page changed nothing, its two clicks cost one HubSpot call." in output
    assert re.search(r"minted for l\*\*\*@example\.com: http://127\.0\.0\.1:\d+/one-click/", output)
    assert "lee.oneclick" not in output
    # And addresses are masked, the function's logs went to a file, and the state file is gone
    assert "jane.doe@example.com" not in output
    assert "j***@example.com" in output
    # And it says where the API's and the queue message's contracts are (paths from the checkout)
    contracts = re.findall(
        r"^  (?:API contract \(OpenAPI 3\.1\)|queue message \(JSON Schema\)) +(\S+)$", output, re.M
    )
    assert contracts == ["openapi.yaml", "schemas/message.schema.json"]
    assert all((REPO / path).is_file() for path in contracts)
    assert (tmp_path / "function.log").stat().st_size > 0
    assert not (tmp_path / "local-stack.json").exists()


def test_make_run_serves_the_api_until_interrupted_and_then_stops_cleanly(serving, tmp_path):
    process, lines = serving
    # Given `make run` has printed its API address and finished its demo
    api_url = lines.wait_for(r"API \(REST, as API Gateway\)\s+(http://\S+)", SERVE_READY_TIMEOUT_S)[1]
    lines.wait_for(r"Ctrl-C to stop", SERVE_READY_TIMEOUT_S)
    state = json.loads((tmp_path / "local-stack.json").read_text(encoding="utf-8"))

    # When a caller posts an unsubscribe request to it, then the operator presses Ctrl-C
    request = urllib.request.Request(  # noqa: S310 - the loopback API
        f"{api_url}/unsubscribe-all",
        data=json.dumps({"subscriberIdString": "served@example.com", "verbose": True}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the loopback API
        status, answer = response.status, json.loads(response.read())
    process.send_signal(signal.SIGINT)
    returncode = process.wait(STOP_TIMEOUT_S)

    # Then the request unsubscribed the address, and the run stopped cleanly, leaving no state file
    assert state["apiUrl"] == api_url
    assert status == 200
    assert {entry["status"] for entry in answer["results"]} == {"UNSUBSCRIBED"}
    assert returncode in (0, 130)
    assert lines.rest()[-1] == "Stopped."
    assert not (tmp_path / "local-stack.json").exists()


def test_make_run_once_refuses_a_real_hubspot_token(tmp_path):
    # Given a real HubSpot token in the environment
    environment = {**run_environment(), "HUBSPOT_TOKEN": "pat-na1-not-a-real-token"}

    # When `make run ONCE=1` is asked for
    finished = subprocess.run(
        local_run("--once", "--run-dir", str(tmp_path)),
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=ONCE_TIMEOUT_S,
        check=False,
    )

    # Then it refuses (the demo would change real data) before starting anything
    assert finished.returncode == 2
    assert "unset HUBSPOT_TOKEN" in finished.stderr
    assert not (tmp_path / "local-stack.json").exists()
