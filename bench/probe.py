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

With `"breakdown": true` in the spec, the import and each invocation are also broken down by
what the process was doing: importing modules, reading settings, building AWS clients, reading
the token, writing to the store, calling HubSpot, waiting on the network, or anything else (the
handler's own work). Each thread's time goes to the innermost of these it is inside; at any
moment the process is doing the highest-ranked thing any of its threads does (a thread blocked
on another's result is doing "other", the lowest). The wrappers cost time themselves, so a probe
with a breakdown is not one of the timed samples.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import json
import resource
import socket
import sys
import threading
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


# From the highest rank to the lowest; "other" is any time inside none of the others.
ACTIVITIES = ("waits", "imports", "clients", "token", "store", "queue", "hubspot", "settings", "other")
# AWS calls by service: the token's secret, the idempotency store, the queues.
AWS_SERVICE_ACTIVITIES = {"secretsmanager": "token", "dynamodb": "store", "sqs": "queue"}


class Activities:
    """Which activity each thread is in, as a log of (time, thread, activity) changes."""

    def __init__(self) -> None:
        self._stacks = threading.local()
        self.changes: list[tuple[float, int, str]] = []

    def _stack(self) -> list[str]:
        stack: list[str] | None = getattr(self._stacks, "stack", None)
        if stack is None:
            stack = self._stacks.stack = []
        return stack

    def enter(self, activity: str) -> None:
        self._stack().append(activity)
        self.changes.append((time.perf_counter(), threading.get_ident(), activity))

    def leave(self) -> None:
        stack = self._stack()
        stack.pop()
        self.changes.append((time.perf_counter(), threading.get_ident(), stack[-1] if stack else "other"))

    def during(self, start: float, end: float) -> dict[str, float]:
        """Seconds of [start, end] spent on each activity, by the highest-ranked thread's."""
        rank = {activity: index for index, activity in enumerate(ACTIVITIES)}
        current: dict[int, str] = {}
        totals = dict.fromkeys(ACTIVITIES, 0.0)
        previous = start
        for at, thread, activity in sorted(self.changes, key=lambda change: change[0]):
            if at > previous and at > start:
                span = min(at, end) - max(previous, start)
                if span > 0:
                    totals[min(current.values(), key=rank.__getitem__, default="other")] += span
                previous = at
            if at >= end:
                break
            current[thread] = activity
        if end > previous:
            totals[min(current.values(), key=rank.__getitem__, default="other")] += end - previous
        return totals


_activities = Activities()


def _in_activity(call: Callable[..., Any], activity_of: Callable[..., str]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _activities.enter(activity_of(*args))
        try:
            return call(*args, **kwargs)
        finally:
            _activities.leave()

    return wrapper


def _aws_call_activity(client: Any, *_: Any) -> str:
    return AWS_SERVICE_ACTIVITIES.get(client.meta.service_model.service_name, "other")


# (module, class, method, activity of a call): patched as soon as the module is imported.
TARGETS: list[tuple[str, str, str, Callable[..., str]]] = [
    ("botocore.session", "Session", "create_client", lambda *_: "clients"),
    ("botocore.client", "BaseClient", "_make_api_call", _aws_call_activity),
    # What botocore sends goes through its own connection pools, not PoolManager.urlopen.
    ("urllib3.poolmanager", "PoolManager", "urlopen", lambda *_: "hubspot"),
]


def _patch_targets(pending: list[tuple[str, str, str, Callable[..., str]]]) -> None:
    for target in list(pending):
        module_name, class_name, method_name, activity_of = target
        owner = getattr(sys.modules.get(module_name), class_name, None)
        if owner is None:
            continue
        pending.remove(target)
        method = owner.__dict__[method_name]
        if isinstance(method, classmethod):
            setattr(owner, method_name, classmethod(_in_activity(method.__func__, activity_of)))
        else:
            setattr(owner, method_name, _in_activity(method, activity_of))


def instrument_activities(extra_targets: list[tuple[str, str, str, str]]) -> None:
    """Times imports (every `import` statement goes through builtins.__import__) and, once their
    modules are imported, the AWS SDK's and urllib3's calls and the spec's own targets."""
    pending = TARGETS + [
        (module, owner, method, lambda *_, activity=activity: activity)
        for module, owner, method, activity in extra_targets
    ]
    original_import = builtins.__import__

    def timed_import(*args: Any, **kwargs: Any) -> Any:
        _activities.enter("imports")
        try:
            return original_import(*args, **kwargs)
        finally:
            _activities.leave()
            if pending:
                _patch_targets(pending)

    builtins.__import__ = timed_import
    for name in WAITING_METHODS:
        setattr(socket.socket, name, _in_activity(getattr(socket.socket, name), lambda *_: "waits"))


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


def measured(action: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    outcome = action()
    wall_ended, cpu_ended = time.perf_counter(), time.process_time()
    times: dict[str, Any] = {
        "wall_s": wall_ended - wall_started,
        "cpu_s": cpu_ended - cpu_started,
        "socket_s": socket_wait_s(wall_started, wall_ended),
    }
    if _activities.changes:
        times["activities_s"] = _activities.during(wall_started, wall_ended)
    return outcome, times


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
    if spec.get("breakdown"):
        targets = [(module, owner, method, activity) for module, owner, method, activity in spec["targets"]]
        instrument_activities(targets)
    Path(result_path).write_text(json.dumps(run(spec)), encoding="utf-8")


if __name__ == "__main__":
    main()
