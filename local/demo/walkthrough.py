"""`make run`'s demo: the demo messages through the local stack's queue, and what became of each.

Runs against the HubSpot sandbox only: it steers the sandbox (an address it refuses, one opted
out beforehand, 429s during the burst) and reads its call log. Every step is sent once the
previous one has settled, and each wait is on the event source, not on a clock.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local.demo.messages import ALREADY_UNSUBSCRIBED, REFUSED_DOMAIN, DemoMessage, DemoStep, demo_steps
from local.demo.one_click import OneClickDemo, run_one_click
from local.demo.outcomes import Evidence, Outcome, SentMessage, outcomes
from local.hubspot_sandbox import CallRecord, HubSpotSandbox
from local.runners.sqs_event_source import EventSourceStats
from local.stack import LocalStack
from optout.domain.request import InvalidRequestError
from optout.masking import mask_email
from optout.triggers.message_body import parse_message_body

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Above the HubSpot client's longest in-process wait (5 s), so the function hands the retry to the
# queue, which brings the message back after this long (the function sets its visibility so).
# Longer than the HubSpot client waits in the invocation (12 s), so the queue brings them back.
BURST_RETRY_AFTER_S = 13
DEMO_TIMEOUT_S = 45.0
SQS_BATCH_LIMIT = 10
PEEK_VISIBILITY_S = 30


@dataclass(frozen=True)
class DemoRow:
    message: DemoMessage
    sent: SentMessage
    outcome: Outcome

    @property
    def as_expected(self) -> bool:
        return self.outcome.meets(self.message.expected)


@dataclass(frozen=True)
class DemoReport:
    rows: list[DemoRow]
    settled: bool
    duration_s: float
    hubspot_calls: list[CallRecord]
    stats: EventSourceStats
    one_click: OneClickDemo | None = None  # None: the steps before it did not settle

    @property
    def unexpected(self) -> list[DemoRow]:
        return [row for row in self.rows if not row.as_expected]

    @property
    def ok(self) -> bool:
        """Every message reached its outcome and the one-click link did what it should."""
        return self.settled and not self.unexpected and self.one_click is not None and self.one_click.ok


def run_demo(stack: LocalStack, say: Callable[[str], None], timeout_s: float = DEMO_TIMEOUT_S) -> DemoReport:
    sandbox = stack.sandbox
    if sandbox is None:
        raise RuntimeError("the demo needs the HubSpot sandbox (unset HUBSPOT_TOKEN)")
    sqs = stack.session.client("sqs")
    _prepare_hubspot(sandbox, stack.hubspot_token)
    opted_out_before = {opt_out["subscriberIdString"].lower() for opt_out in sandbox.state()["optOuts"]}
    unsubscribes_before = Counter(sandbox.successful_unsubscribes())
    calls_before = len(sandbox.calls())

    started = time.monotonic()
    deadline = started + timeout_s
    steps = demo_steps()
    sent: list[tuple[DemoMessage, SentMessage]] = []
    settled = True
    total = len(steps) + 1  # and the one-click link
    for number, step in enumerate(steps, start=1):
        say(f"step {number}/{total}: {len(step.messages)} message(s), {step.title}")
        step_started = time.monotonic()
        ids = _send_step(sqs, stack, sandbox, step, deadline=deadline)
        sent += [
            (message, _sent_message(id_, message)) for id_, message in zip(ids, step.messages, strict=True)
        ]
        settled = stack.event_source.wait_until_drained(max(0.0, deadline - time.monotonic()))
        say(f"  {'settled' if settled else 'NOT settled'} in {time.monotonic() - step_started:.1f} s")
        if not settled:
            break
    one_click = None
    if settled:
        say(f"step {total}/{total}: a one-click link minted, its page opened, then clicked twice")
        step_started = time.monotonic()
        one_click = run_one_click(stack, deadline)
        state = "settled" if one_click.settled else "NOT settled"
        say(f"  {state} in {time.monotonic() - step_started:.1f} s")
    duration_s = time.monotonic() - started

    evidence = Evidence(
        dead_letter_reasons=_dead_letter_reasons(sqs, stack.resources.dead_letter_queue_url),
        receive_counts=stack.event_source.receive_counts(),
        deleted=stack.event_source.deleted_message_ids(),
        unsubscribes=Counter(sandbox.successful_unsubscribes()) - unsubscribes_before,
        opted_out_before=opted_out_before,
    )
    found = outcomes([message for _, message in sent], evidence)
    rows = [DemoRow(demo, message, outcome) for (demo, message), outcome in zip(sent, found, strict=True)]
    calls = sandbox.calls()[calls_before:]
    return DemoReport(rows, settled, duration_s, calls, stack.event_source.stats(), one_click)


def report_lines(report: DemoReport) -> list[str]:
    label_width = max(len(row.message.label) for row in report.rows)
    address_width = max(len(_shown_address(row.sent)) for row in report.rows)
    state = "all settled" if report.settled else "NOT all settled"
    lines = [f"Demo: {len(report.rows)} messages through the queue, {state} in {report.duration_s:.1f} s"]
    for row in report.rows:
        line = f"  {row.message.label:<{label_width}}  {_shown_address(row.sent):<{address_width}}  "
        line += row.outcome.describe()
        if not row.as_expected:
            line += f"   <- expected: {row.message.expected.describe()}"
        lines.append(line)
    if report.one_click is not None:
        lines += ["One-click link (RFC 8058):", *report.one_click.lines]
    stats = report.stats
    lines += [
        f"HubSpot: {len(report.hubspot_calls)} calls ({_calls_breakdown(report.hubspot_calls)})",
        f"Queue: {stats.invocations} invocations, {stats.messages_received} receives, "
        f"{stats.messages_deleted} deleted, {stats.messages_failed} left for a retry, "
        f"{stats.timeouts} timed out, {stats.errors} failed",
    ]
    if report.unexpected:
        lines.append(
            f"{len(report.unexpected)} of {len(report.rows)} messages did not reach their expected outcome:"
        )
        lines += [f"  {row.message.label}" for row in report.unexpected]
    else:
        lines.append(f"All {len(report.rows)} messages reached their expected outcome.")
    if report.one_click is None:
        lines.append("The one-click link was not tried: the messages did not settle.")
    elif report.one_click.ok:
        lines.append("The one-click link: its page changed nothing, its two clicks cost one HubSpot call.")
    else:
        lines.append("The one-click link did NOT do what it should: " + "; ".join(report.one_click.problems))
    return lines


def _prepare_hubspot(sandbox: HubSpotSandbox, token: str) -> None:
    sandbox.configure(invalid_subscribers=rf"@{re.escape(REFUSED_DOMAIN)}$")
    sandbox.unsubscribe_through_api(token, ALREADY_UNSUBSCRIBED)


def _send_step(
    sqs: SQSClient, stack: LocalStack, sandbox: HubSpotSandbox, step: DemoStep, *, deadline: float
) -> list[str]:
    if not step.rate_limited:
        return _send(sqs, stack.resources.queue_url, step.messages)
    # Every call gets a 429 until each message has been tried once; their retries then succeed. The
    # 429s say Retry-After, as HubSpot has been seen to (the sandbox's retry-after quirk).
    sandbox.configure(
        fault_rates={"429": 1.0}, fault_retry_after_s=BURST_RETRY_AFTER_S, quirks=["retry-after"]
    )
    try:
        ids = _send(sqs, stack.resources.queue_url, step.messages)
        stack.event_source.wait_until_received(ids, max(0.0, deadline - time.monotonic()))
    finally:
        sandbox.configure(fault_rates={}, quirks=[])
    return ids


def _send(sqs: SQSClient, queue_url: str, messages: Sequence[DemoMessage]) -> list[str]:
    """Sends the messages; returns their MessageIds in the same order."""
    ids: list[str] = []
    for start in range(0, len(messages), SQS_BATCH_LIMIT):
        chunk = messages[start : start + SQS_BATCH_LIMIT]
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(index), "MessageBody": message.body} for index, message in enumerate(chunk)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused demo messages: {response['Failed']}")
        by_entry = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
        ids += [by_entry[str(index)] for index in range(len(chunk))]
    return ids


def _sent_message(message_id: str, message: DemoMessage) -> SentMessage:
    try:
        request = parse_message_body(message.body)
    except InvalidRequestError:
        return SentMessage(message_id, None, None)
    return SentMessage(message_id, request.subscriber, request.idempotency_key)


def _peek(sqs: SQSClient, queue_url: str) -> list[MessageTypeDef]:
    """Every message on the queue, left visible afterwards."""
    messages: list[MessageTypeDef] = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=SQS_BATCH_LIMIT,
        VisibilityTimeout=PEEK_VISIBILITY_S,
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        messages += batch
    for start in range(0, len(messages), SQS_BATCH_LIMIT):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, message in enumerate(messages[start : start + SQS_BATCH_LIMIT])
            ],
        )
    return messages


def _dead_letter_reasons(sqs: SQSClient, queue_url: str) -> dict[str, str | None]:
    """Source MessageId -> the `reason` the function gave, or None for a message the redrive moved."""
    reasons: dict[str, str | None] = {}
    for message in _peek(sqs, queue_url):
        attributes = message.get("MessageAttributes", {})
        source, reason = attributes.get("sourceMessageId"), attributes.get("reason")
        if source is None:
            reasons[message["MessageId"]] = None
        else:
            reasons[source["StringValue"]] = reason.get("StringValue") if reason else None
    return reasons


def _shown_address(message: SentMessage) -> str:
    return mask_email(message.subscriber) if message.subscriber else "-"


def _calls_breakdown(calls: Sequence[CallRecord]) -> str:
    by_operation: dict[str, Counter[str]] = {}
    for call in calls:
        operation = call.request.operation or call.request.method
        answer = str(call.status) if call.status is not None else f"no answer ({call.fault})"
        by_operation.setdefault(operation, Counter())[answer] += 1
    return "; ".join(
        f"{operation}: " + ", ".join(f"{answer} x{count}" for answer, count in sorted(answers.items()))
        for operation, answers in sorted(by_operation.items())
    )
