"""The queue soak: messages through the local stack under faults, then the verdict on what became of them.

The stack is the one `make run` uses (moto, the HubSpot sandbox, the SQS event source and the
function), with the template's settings except where noted in `Timings`. The function's DynamoDB
client goes through a TCP proxy, so the idempotency store alone can be taken down (and its data
kept) while SQS and Secrets Manager stay up.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from local.hubspot_sandbox import HubSpotSandbox
from local.runners.sqs_event_source import EventSourceStats
from local.soak.capture import FunctionOutput
from local.soak.chaos import Chaos, ChaosLog, Timings
from local.soak.clicks import Clicker, ClickResults, PlannedLink, plan_links
from local.soak.evidence import Evidence, hubspot_faults, opted_out, queue_depth, read_letters, read_table
from local.soak.leaks import Leak, find_leaks
from local.soak.plan import PlannedMessage, plan_messages
from local.soak.tcp_proxy import TcpProxy
from local.soak.verdict import Verdict, judge, judge_clicks
from local.stack import LocalStack, StackOptions
from optout.masking import mask_email

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SEND_LIMIT = 10
# The local Lambda runs an invocation on a thread of this name; one cut off at its timeout runs on.
INVOCATION_THREAD_PREFIX = "lambda-invocation-"
PROGRESS_EVERY_S = 10.0

Progress = Callable[[str], None]


@dataclass
class SoakRun:
    """Everything a soak run produced, for the verdict and the report."""

    messages: int
    seed: int
    timings: Timings
    planned: list[PlannedMessage] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds each phase took
    chaos: ChaosLog = field(default_factory=ChaosLog)
    stats: EventSourceStats = field(default_factory=EventSourceStats)
    drained: bool = False
    evidence: Evidence | None = None
    verdict: Verdict = field(default_factory=Verdict)
    aws_calls_checked: int = 0  # distinct calls checked against template.yaml's policies
    links: list[PlannedLink] = field(default_factory=list)  # one-click links, clicked beside the messages
    clicks: ClickResults | None = None


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def _phase(run: SoakRun, name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    run.phases[name] = time.monotonic() - started


def send(sqs: SQSClient, queue_url: str, bodies: Sequence[str]) -> list[str]:
    """Sends the bodies in order, ten to a request; returns their message ids in the same order."""
    ids: list[str] = []
    for start in range(0, len(bodies), SEND_LIMIT):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": body}
            for index, body in enumerate(bodies[start : start + SEND_LIMIT])
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} soak messages")
        by_entry = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
        ids += [by_entry[entry["Id"]] for entry in entries]
    return ids


def wait_for_cut_off_invocations(timeout_s: float) -> None:
    """Invocations given up at their timeout run on (a thread cannot be killed): let them end."""
    deadline = time.monotonic() + timeout_s
    for thread in threading.enumerate():
        if thread.name.startswith(INVOCATION_THREAD_PREFIX):
            thread.join(max(0.0, deadline - time.monotonic()))


def scan_for_leaks(output: FunctionOutput, evidence: Evidence, tokens: Sequence[str]) -> list[Leak]:
    """The token anywhere; full addresses anywhere but in DLQ bodies (the producers' own messages)."""
    texts = {
        **output.texts(),
        "DLQ attributes": "\n".join(str(dict(letter.attributes)) for letter in evidence.letters),
        "idempotency records": "\n".join(str(item) for item in evidence.idempotency_records),
    }
    leaks = [leak for source, text in texts.items() for leak in find_leaks(source, text, secrets=tokens)]
    bodies = "\n".join(letter.body for letter in evidence.letters)
    return leaks + find_leaks("DLQ bodies", bodies, secrets=tokens, emails=False)


def _drain(stack: LocalStack, timeout_s: float, progress: Progress) -> bool:
    """Waits for the queue to drain, saying every few seconds how far it has got."""
    sqs = stack.session.client("sqs")
    started = time.monotonic()
    while not stack.event_source.wait_until_drained(min(PROGRESS_EVERY_S, timeout_s)):
        elapsed = time.monotonic() - started
        if elapsed >= timeout_s:
            return False
        stats = stack.event_source.stats()
        progress(
            f"  {elapsed:5.0f} s: {queue_depth(sqs, stack.resources.queue_url)} on the queue,"
            f" {stats.messages_deleted} deleted, {stats.invocations} invocations"
        )
    return True


def _drive(
    run: SoakRun,
    stack: LocalStack,
    chaos: Chaos,
    clicker: Clicker,
    *,
    drain_timeout_s: float,
    progress: Progress,
) -> None:
    sqs = stack.session.client("sqs")
    # The plan lists the first wave, then the late duplicates: ids are kept in the same order.
    first = [message for message in run.planned if not message.late]
    late = [message for message in run.planned if message.late]
    started = time.monotonic()
    with _phase(run, "send"):
        run.message_ids = send(sqs, stack.resources.queue_url, [message.body for message in first])
        clicker.first_wave()
    # The late duplicates (and clicks): "minutes apart" from their originals, scaled to the run.
    time.sleep(max(0.0, started + run.timings.late_duplicates_at_s - time.monotonic()))
    run.message_ids += send(sqs, stack.resources.queue_url, [message.body for message in late])
    clicker.late_wave()
    run.clicks = clicker.results
    with _phase(run, "drain"):
        run.drained = _drain(stack, drain_timeout_s, progress)
        chaos.stop()
        wait_for_cut_off_invocations(stack.function.timeout_s)
    run.chaos = chaos.log


def run_queue_soak(
    messages: int,
    seed: int,
    drain_timeout_s: float,
    progress: Progress = lambda _: None,
    output_dir: Path | None = None,
) -> SoakRun:
    timings = Timings.for_messages(messages)
    run_id = uuid.uuid4().hex[:8]
    run = SoakRun(
        messages,
        seed,
        timings,
        plan_messages(messages, run_id, seed),
        links=plan_links(messages, run_id, seed),
    )
    with ExitStack() as running:
        with _phase(run, "start"):
            options = StackOptions(
                api_port=0,
                run_dir=Path(running.enter_context(tempfile.TemporaryDirectory(prefix="soak-"))),
                queue_overrides=timings.queue_overrides(),
                timeout_override=timings.cut_off,
            )
            stack = running.enter_context(LocalStack(options))
            if stack.sandbox is None:
                raise RuntimeError("the soak needs the HubSpot sandbox: unset HUBSPOT_TOKEN")
            moto = urlsplit(stack.moto.url)
            proxy = running.enter_context(TcpProxy(moto.hostname or "127.0.0.1", moto.port or 80))
            running.enter_context(_environment("AWS_ENDPOINT_URL_DYNAMODB", proxy.url))
            output = running.enter_context(FunctionOutput())
            secrets = stack.session.client("secretsmanager")

            def rotate(secret: str) -> None:
                secrets.put_secret_value(SecretId=stack.resources.secret_id, SecretString=secret)

            clicker = Clicker(stack, run.links)
            clicker.mint()
            chaos = running.enter_context(Chaos(timings, stack.sandbox, rotate, proxy, stack.hubspot_token))
        _drive(run, stack, chaos, clicker, drain_timeout_s=drain_timeout_s, progress=progress)
        with _phase(run, "check"):
            sqs = stack.session.client("sqs")
            # Straight to moto, not through the proxy the function's DynamoDB client uses.
            dynamodb = stack.session.client("dynamodb", endpoint_url=stack.moto.url)
            run.stats = stack.event_source.stats()
            run.evidence = Evidence(
                opted_out=opted_out(stack.sandbox),
                successful_unsubscribes=stack.sandbox.successful_unsubscribes(),
                letters=read_letters(sqs, stack.resources.dead_letter_queue_url),
                acknowledged=frozenset(stack.event_source.deleted_message_ids()),
                queue_depth=queue_depth(sqs, stack.resources.queue_url),
                idempotency_records=read_table(dynamodb, stack.resources.table_name),
                faults=hubspot_faults(stack.sandbox),
            )
            leaks = scan_for_leaks(output, run.evidence, [stack.hubspot_token, chaos.new_token])
            if output_dir is not None:
                output.keep(output_dir, "queue-")
                receives = json.dumps(stack.event_source.receive_counts(), indent=1)
                (output_dir / "queue-receive-counts.json").write_text(receives, encoding="utf-8")
                keep_hubspot_calls(output_dir, stack.sandbox, run)
            run.verdict = judge(run.planned, run.message_ids, run.evidence, leaks)
            judge_clicks(run.verdict, clicker.results, run.evidence)
            run.aws_calls_checked = len(stack.moto.calls.calls())
            run.verdict.note(
                "AWS calls template.yaml does not allow",
                [str(problem) for problem in stack.aws_calls_not_allowed()],
            )
            if not run.drained:
                run.verdict.problems.insert(0, f"the queue did not drain within {drain_timeout_s:.0f} s")
    return run


def _subscriber_tag(address: str) -> str:
    """A subscriber in kept output: masked, with a digest to tell addresses apart (never the address)."""
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:10]
    return f"{mask_email(address)}#{digest}"


def keep_hubspot_calls(output_dir: Path, sandbox: HubSpotSandbox, run: SoakRun) -> None:
    """HubSpot's call log and each message's subscriber, tagged, for a failure's root cause."""
    calls = [
        {
            "seq": call.seq,
            "at": call.at,
            "operation": call.request.operation,
            "status": call.status,
            "fault": call.fault,
            "subscribers": [
                _subscriber_tag(s) for s in call.request.inputs or (call.request.subscriber or "",)
            ],
        }
        for call in sandbox.calls()
    ]
    messages = {
        id_: {"kind": message.kind.value, "subscriber": message.address and _subscriber_tag(message.address)}
        for message, id_ in zip(run.planned, run.message_ids, strict=True)
    }
    (output_dir / "queue-hubspot-calls.json").write_text(json.dumps(calls, indent=1), encoding="utf-8")
    (output_dir / "queue-messages.json").write_text(json.dumps(messages, indent=1), encoding="utf-8")
