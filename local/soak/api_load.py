"""The API under load: 50 clients against the local REST API, with HubSpot faults on, then the verdict.

Clients behave as a careful caller does: a 409, 429, 502 or 503 is retried after its Retry-After
(capped, to keep the run short) with the same Idempotency-Key. Every HTTP answer is kept: no 5xx
may appear but the documented 502 (HubSpot failed) and 503 (token or store unavailable); a bad
request gets a 400 in HubSpot's error shape; of a good request and its duplicates exactly one
answer is fresh and the others are replays (`Idempotent-Replayed: true`), and HubSpot is called
successfully once per address. The token must not appear in any answer.
"""

from __future__ import annotations

import http.client
import json
import queue
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from local.hubspot_sandbox import HubSpotSandbox
from local.soak.api_plan import PlannedRequest, RequestKind, plan_requests
from local.soak.capture import FunctionOutput
from local.soak.chaos import FAULT_RATES, TIMEOUT_HANG_S
from local.soak.leaks import find_leaks
from local.stack import LocalStack, StackOptions

CLIENTS = 50
RETRIED = frozenset({409, 429, 502, 503})
MAPPED_5XX = frozenset({502, 503})
# A careful client keeps retrying a 409 until an in-progress record must have expired (its
# invocation's 30 s timeout, which a busy machine stretches), waiting at most a second at a time
# to keep the run short.
RETRY_WINDOW_S = 60.0
MAX_RETRY_WAIT_S = 1.0
CLIENT_TIMEOUT_S = 60.0
# The stage's throttle (10 requests/s) keeps real traffic far below HubSpot's rolling window; here
# the load is not throttled, so the window is opened up and the injected 429s stand for it.
SANDBOX_RATE_LIMIT = 1_000_000


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    replayed: bool
    category: str | None
    body: str
    retry_after_s: float


@dataclass
class LoadRun:
    requests: int
    answers: dict[int, list[Answer]] = field(default_factory=dict)  # by request number, every attempt
    planned: list[PlannedRequest] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def latencies_ms(self) -> list[float]:
        return sorted(answer.seconds * 1000 for answers in self.answers.values() for answer in answers)

    def final_line(self) -> str:
        latencies = self.latencies_ms()
        p50 = statistics.median(latencies) if latencies else 0.0
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
        attempts = len(latencies)
        return (
            f"api load: {self.requests} requests ({attempts} HTTP answers) from {CLIENTS} clients in "
            f"{self.seconds:.1f} s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, {len(self.problems)} problems"
        )


def _send(base: tuple[str, int], request: PlannedRequest) -> Answer:
    connection = http.client.HTTPConnection(*base, timeout=CLIENT_TIMEOUT_S)
    started = time.monotonic()
    try:
        connection.request(request.method, request.path, body=request.body or None, headers=request.headers)
        response = connection.getresponse()
        body = response.read().decode()
        seconds = time.monotonic() - started
        headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    category = decoded.get("category") if isinstance(decoded, dict) else None
    replayed = headers.get("idempotent-replayed") == "true"
    return Answer(response.status, seconds, replayed, category, body, float(headers.get("retry-after") or 0))


def _client(base: tuple[str, int], work: queue.Queue[tuple[int, PlannedRequest]], run: LoadRun) -> None:
    while True:
        try:
            number, request = work.get_nowait()
        except queue.Empty:
            return
        attempts: list[Answer] = []
        give_up_at = time.monotonic() + RETRY_WINDOW_S
        while True:
            answer = _send(base, request)
            attempts.append(answer)
            if (
                answer.status not in RETRIED
                or request.kind is RequestKind.BAD
                or time.monotonic() > give_up_at
            ):
                break
            time.sleep(min(MAX_RETRY_WAIT_S, answer.retry_after_s))
        run.answers[number] = attempts


def successful_calls(sandbox: HubSpotSandbox) -> dict[str, list[str]]:
    """When HubSpot successfully unsubscribed each address (single calls; the load makes no batch calls)."""
    calls: dict[str, list[str]] = defaultdict(list)
    for call in sandbox.calls():
        if call.request.operation == "unsubscribe-all" and call.status == 200 and call.request.subscriber:
            calls[call.request.subscriber.lower()].append(call.at)
    return calls


def judge(
    run: LoadRun, successful_calls: Mapping[str, list[str]], token: str, captured: Mapping[str, str]
) -> None:
    """Adds a problem for each broken promise (see the module's docstring).

    `successful_calls` has the times of HubSpot's successful unsubscribe calls, by lower-cased address.
    """
    unexpected, bad_not_refused, good_failed = Counter[str](), [], []
    outcomes: dict[str, list[Answer]] = defaultdict(list)
    for number, request in enumerate(run.planned):
        answers = run.answers.get(number, [])
        for answer in answers:
            if answer.status >= 500 and answer.status not in MAPPED_5XX:
                unexpected[f"{answer.status} {answer.category}"] += 1
        final = answers[-1] if answers else None
        if request.kind is RequestKind.BAD:
            if final is None or (final.status, final.category) != (400, "VALIDATION_ERROR"):
                bad_not_refused.append(f"#{number} {request.method} {request.path[:40]}")
        elif final is None or final.status != 200:
            good_failed.append(f"#{number} ({final.status if final else 'no answer'})")
        elif request.key is not None:
            outcomes[request.key].append(final)
    not_once = [key for key, finals in outcomes.items() if sum(not final.replayed for final in finals) != 1]
    keys = {
        request.address.lower(): request.key for request in run.planned if request.address and request.key
    }
    twice = [
        f"{keys[address]} (calls at {', '.join(times)})"
        for address, times in successful_calls.items()
        if address in keys and len(times) > 1
    ]
    answers_text = "\n".join(answer.body for answers in run.answers.values() for answer in answers)
    leaks = find_leaks("API answers", answers_text, secrets=[token], emails=False)
    leaks += [leak for source, text in captured.items() for leak in find_leaks(source, text, secrets=[token])]
    for what, found in (
        ("unexpected 5xx answers", [f"{name} x{count}" for name, count in unexpected.items()]),
        ("bad requests not refused with a 400", bad_not_refused),
        ("good requests that never succeeded", good_failed),
        ("idempotency keys not answered fresh exactly once (the rest replayed)", not_once),
        ("addresses unsubscribed more than once", twice),
        ("leaks", [str(leak) for leak in leaks]),
    ):
        if found:
            run.problems.append(f"{len(found)} {what}: {', '.join(found[:3])}")


def run_api_load(requests: int, seed: int, output_dir: Path | None = None) -> LoadRun:
    run = LoadRun(requests, planned=plan_requests(requests, uuid.uuid4().hex[:8], seed))
    with ExitStack() as running:
        run_dir = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="api-load-")))
        stack = running.enter_context(LocalStack(StackOptions(api_port=0, run_dir=run_dir)))
        output = running.enter_context(FunctionOutput())
        if stack.sandbox is None:
            raise RuntimeError("the API load test needs the HubSpot sandbox: unset HUBSPOT_TOKEN")
        stack.sandbox.configure(
            fault_rates=FAULT_RATES, timeout_hang_s=TIMEOUT_HANG_S, rate_limit=SANDBOX_RATE_LIMIT
        )
        address = urlsplit(stack.api.url)
        base = (address.hostname or "127.0.0.1", address.port or 80)
        work: queue.Queue[tuple[int, PlannedRequest]] = queue.Queue()
        for item in enumerate(run.planned):
            work.put(item)
        clients = [
            threading.Thread(target=_client, args=(base, work, run), daemon=True) for _ in range(CLIENTS)
        ]
        started = time.monotonic()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        run.seconds = time.monotonic() - started
        judge(run, successful_calls(stack.sandbox), stack.hubspot_token, output.texts())
        not_allowed = [str(problem) for problem in stack.aws_calls_not_allowed()]
        if not_allowed:
            run.problems.append(
                f"{len(not_allowed)} AWS calls template.yaml does not allow: {not_allowed[:3]}"
            )
        if output_dir is not None:
            output.keep(output_dir, "api-")
    return run


def report_lines(run: LoadRun) -> Sequence[str]:
    statuses = Counter(answer.status for answers in run.answers.values() for answer in answers)
    replays = sum(answer.replayed for answers in run.answers.values() for answer in answers)
    kinds = Counter(str(request.kind) for request in run.planned)
    return [
        "api load: " + ", ".join(f"{kind} x{count}" for kind, count in sorted(kinds.items())),
        "  answers: "
        + ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items()))
        + f"; {replays} replayed",
        *(f"  FAILED: {problem}" for problem in run.problems),
        run.final_line(),
    ]
