"""The raw baseline, the floor: bare urllib3 unsubscribe-all calls to the sandbox, no AWS work at all."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import urllib3

MAX_CONNECTIONS = 32


class RawClient:
    def __init__(self, base_url: str, token: str) -> None:
        self._prefix = f"{base_url}/communication-preferences/v4/statuses"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = urllib3.PoolManager(maxsize=MAX_CONNECTIONS, retries=False)

    def unsubscribe(self) -> int:
        """One call for a fresh address; returns HubSpot's status."""
        email = quote(f"raw-{uuid.uuid4().hex}@example.com", safe="")
        url = f"{self._prefix}/{email}/unsubscribe-all?channel=EMAIL"
        return self._http.request("POST", url, headers=self._headers).status

    def unsubscribe_batch(self, size: int) -> int:
        """One batch call for `size` fresh addresses; returns HubSpot's status."""
        inputs = [f"raw-{uuid.uuid4().hex}@example.com" for _ in range(size)]
        return self._http.request(
            "POST",
            f"{self._prefix}/batch/unsubscribe-all?channel=EMAIL",
            body=json.dumps({"inputs": inputs}).encode(),
            headers={**self._headers, "Content-Type": "application/json"},
        ).status

    def round_trips_s(self, count: int) -> list[float]:
        """Each of `count` calls in a row, timed (the connection is opened by a call not counted)."""
        self.unsubscribe()
        durations = []
        for _ in range(count):
            started = time.perf_counter()
            self.unsubscribe()
            durations.append(time.perf_counter() - started)
        return durations

    def sequential_s(self, calls: int) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            self.unsubscribe()
        return time.perf_counter() - started

    def batch_s(self, size: int) -> float:
        started = time.perf_counter()
        self.unsubscribe_batch(size)
        return time.perf_counter() - started

    def parallel_s(self, calls: int) -> float:
        with ThreadPoolExecutor(max_workers=calls) as pool:
            list(pool.map(lambda _: self.unsubscribe(), range(calls)))  # opens the connections
            started = time.perf_counter()
            list(pool.map(lambda _: self.unsubscribe(), range(calls)))
            return time.perf_counter() - started

    def cpu_per_call_s(self, calls: int) -> float:
        self.unsubscribe()
        started = time.process_time()
        for _ in range(calls):
            self.unsubscribe()
        return (time.process_time() - started) / calls

    def hammer(self, threads: int, duration_s: float) -> None:
        """Calls as fast as `threads` threads can, without pacing, for `duration_s`."""
        ends = time.monotonic() + duration_s

        def loop() -> None:
            while time.monotonic() < ends:
                self.unsubscribe()

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(loop) for _ in range(threads)]:
                future.result()
