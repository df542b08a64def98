"""The local AWS (moto) and HubSpot (the sandbox), each in a process of its own.

On Lambda, DynamoDB and HubSpot run on other machines: here they run in child processes, so
their CPU time is not counted as the function's and they do not compete for its GIL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import urllib3

from local.hubspot_sandbox.__main__ import TOKEN_ENVIRONMENT_VARIABLE

# High enough that nothing but the throughput figure meets a limit.
UNLIMITED_CALLS = 10_000_000
SANDBOX_LISTENING = "HubSpot sandbox listening on "
STOP_TIMEOUT_S = 10


class SandboxControl:
    """The sandbox's admin endpoints (`/__sandbox/`), over HTTP."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._http = urllib3.PoolManager(retries=False)

    def _request(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
        response = self._http.request(
            method,
            f"{self._base_url}/__sandbox/{path}",
            body=None if payload is None else json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        if response.status != 200:
            raise RuntimeError(f"sandbox {path}: {response.status} {response.data[:200]!r}")
        return response.json()

    def configure(self, **changes: Any) -> None:
        self._request("POST", "config", changes)

    def reset(self) -> None:
        """Back to the start settings (no latency, no limit), with an empty call log."""
        self._request("POST", "reset")

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self._request("GET", "calls")["calls"]
        return calls

    def successful_unsubscribes(self) -> dict[str, int]:
        """How many successful calls named each subscriber."""
        counts: dict[str, int] = self._request("GET", "state")["successfulUnsubscribes"]
        return counts


@dataclass(frozen=True)
class Servers:
    aws_environment: Mapping[str, str]  # points boto3 at moto
    hubspot_base_url: str
    hubspot_token: str
    sandbox: SandboxControl


@contextmanager
def _child(arguments: Sequence[str], environment: Mapping[str, str] | None = None) -> Iterator[str]:
    """Runs `python ARGUMENTS`; yields the first line it prints, and terminates it afterwards."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        [sys.executable, *arguments], stdout=subprocess.PIPE, text=True, env=environment
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        if not line:
            raise RuntimeError(f"{' '.join(arguments)} exited before it was ready")
        yield line
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def store_stand_in(latency_ms: float, base_environment: Mapping[str, str]) -> Iterator[str]:
    """bench/store_stand_in.py in a process of its own; yields its URL."""
    with _child(["-m", "bench.store_stand_in", "--latency-ms", str(latency_ms)], base_environment) as url:
        yield url


@contextmanager
def running_servers(base_environment: Mapping[str, str]) -> Iterator[Servers]:
    token = f"bench-{uuid.uuid4().hex}"
    sandbox_arguments = ["-m", "local.hubspot_sandbox", "--port", "0"]
    for flag in ("--rate-limit", "--daily-limit"):
        sandbox_arguments += [flag, str(UNLIMITED_CALLS)]
    with (
        _child(["-m", "bench.moto_process"], base_environment) as moto_line,
        _child(sandbox_arguments, {**base_environment, TOKEN_ENVIRONMENT_VARIABLE: token}) as sandbox_line,
    ):
        base_url = sandbox_line.removeprefix(SANDBOX_LISTENING)
        yield Servers(json.loads(moto_line), base_url, token, SandboxControl(base_url))
