"""A Lambda execution environment in a fresh process: import a handler, invoke it, measure.

    python -I -S -B bench/probe.py SPEC_JSON RESULT_JSON

Run in isolated mode without `site` (only the spec's paths are importable, as only the deployment
package is on Lambda) and without writing bytecode (Lambda's /var/task is read-only). Standard
library only, so it runs under any of the benchmark's interpreters. The spec names the import
paths, the handler, the queue ARN the records claim to come from and the sizes of the
invocations; each invocation is an SQS event of that many fresh records. The result holds, for
the import and each invocation, wall time, process CPU time and the time during which some
thread was inside a socket call (the network waits, merged across threads), and the peak RSS
after each invocation.
"""

from __future__ import annotations

import functools
import importlib
import json
import resource
import socket
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Socket calls that wait on the network; wrapped before anything else is imported.
WAITING_METHODS = ("connect", "connect_ex", "send", "sendall", "sendto", "recv", "recv_into", "recvfrom")
_socket_intervals: list[tuple[float, float]] = []


def _timed(call: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            _socket_intervals.append((started, time.perf_counter()))

    return wrapper


def instrument_sockets() -> None:
    for name in WAITING_METHODS:
        setattr(socket.socket, name, _timed(getattr(socket.socket, name)))
    socket.getaddrinfo = _timed(socket.getaddrinfo)


def socket_wait_s(start: float, end: float) -> float:
    """How long, within [start, end], at least one thread was inside a socket call."""
    clipped = sorted(
        (max(a, start), min(b, end)) for a, b in list(_socket_intervals) if b > start and a < end
    )
    total = 0.0
    current_start, current_end = None, None
    for a, b in clipped:
        if current_end is None or a > current_end:
            if current_start is not None and current_end is not None:
                total += current_end - current_start
            current_start, current_end = a, b
        else:
            current_end = max(current_end, b)
    if current_start is not None and current_end is not None:
        total += current_end - current_start
    return total


class ProbeContext:
    """What Lambda passes a handler (the attributes Powertools reads)."""

    def __init__(self, function_name: str, timeout_s: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"probe/{self.aws_request_id}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(size: int, queue_arn: str) -> dict[str, Any]:
    now_ms = str(int(time.time() * 1000))
    records = []
    for _ in range(size):
        message_id = str(uuid.uuid4())
        body = json.dumps({"subscriberIdString": f"probe-{message_id}@example.com"})
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": f"probe-{uuid.uuid4().hex}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now_ms,
                    "SenderId": "AIDAPROBE",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def measured(action: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    outcome = action()
    wall_ended, cpu_ended = time.perf_counter(), time.process_time()
    return outcome, {
        "wall_s": wall_ended - wall_started,
        "cpu_s": cpu_ended - cpu_started,
        "socket_s": socket_wait_s(wall_started, wall_ended),
    }


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that across exec
    from the parent that forked us, so a large parent would set the figure."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def failures_in(response: Any) -> int:
    if isinstance(response, dict) and isinstance(response.get("batchItemFailures"), list):
        return len(response["batchItemFailures"])
    return 0


def run(spec: dict[str, Any]) -> dict[str, Any]:
    sys.path[:0] = spec["paths"]
    module_name, _, function_name = spec["handler"].rpartition(".")
    module, import_times = measured(lambda: importlib.import_module(module_name))
    handler = getattr(module, function_name)
    invocations = []
    for size in spec["invocations"]:
        event = sqs_event(size, spec["queue_arn"])
        context = ProbeContext(spec.get("function_name", "bench-probe"), spec.get("timeout_s", 30.0))
        response, times = measured(functools.partial(handler, event, context))
        invocations.append(
            {
                "records": size,
                "failures": failures_in(response),
                "max_rss_kb": peak_rss_kb(),
                **times,
            }
        )
    return {"import": import_times, "invocations": invocations, "modules_loaded": len(sys.modules)}


def main() -> None:
    instrument_sockets()
    spec_path, result_path = sys.argv[1:3]
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    Path(result_path).write_text(json.dumps(run(spec)), encoding="utf-8")


if __name__ == "__main__":
    main()
