"""The soak's report: what was sent, what went wrong on purpose, what the checks found, the final line."""

from __future__ import annotations

from collections import Counter

from local.soak.chaos import Timings
from local.soak.plan import Kind
from local.soak.queue_soak import SoakRun


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} x{count}" for name, count in sorted(counter.items())) or "none"


def _timings(timings: Timings) -> str:
    budget_min = timings.template_visibility_timeout_s * timings.template_max_receive_count / 60
    return ", ".join(
        [
            f"visibility {timings.visibility_timeout_s} s, maxReceiveCount {timings.max_receive_count}"
            f" (template: {timings.template_visibility_timeout_s} s, {timings.template_max_receive_count};"
            f" the same {budget_min:.0f} minutes of retries before the DLQ)",
            f"token rotation at {timings.rotate_token_at_s:.1f} s",
            f"idempotency store down {timings.outage_s:.1f} s from {timings.outage_at_s:.1f} s",
            f"hanging {timings.hang_s:.1f} s from {timings.hang_at_s:.1f} s",
            f"late duplicates at {timings.late_duplicates_at_s:.1f} s",
            f"every {timings.cut_off_every}th invocation from the first"
            f" cut off after {timings.cut_off_after_s} s",
        ]
    )


def report_lines(run: SoakRun) -> list[str]:
    timings, stats, evidence = run.timings, run.stats, run.evidence
    kinds = Counter(str(message.kind) for message in run.planned)
    late = sum(message.late for message in run.planned)
    enveloped = sum(message.enveloped for message in run.planned if message.kind is Kind.VALID)
    lines = [
        f"soak: {run.messages} messages (seed {run.seed}): {_counts(kinds)}; {late} duplicates sent late;"
        f" {enveloped} in SNS/EventBridge envelopes without a key, each delivered twice",
        "  local timings: " + _timings(timings),
        "  phases: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.phases.items()),
    ]
    lines += [f"  chaos at {at:5.1f} s: {what}" for at, what in sorted(run.chaos.events)]
    if evidence is not None:
        lines.append(f"  HubSpot faults met: {_counts(evidence.faults)}")
        lines.append(
            f"  queue: {stats.invocations} invocations ({stats.timeouts} cut off at their timeout, "
            f"{stats.errors} raised), {stats.messages_received} receives, {stats.messages_deleted} deleted, "
            f"{stats.messages_failed} left for a retry"
        )
        parked = Counter(letter.source_id for letter in evidence.letters)
        twice = sum(count > 1 for count in parked.values())
        lines.append(
            f"  DLQ: {len(evidence.letters)} letters for {len(parked)} messages"
            f" ({twice} parked twice: redelivered while the invocation that parked them still ran)"
        )
        lines.append(
            f"  permissions: {run.aws_calls_checked} distinct AWS calls of the function and Lambda's"
            " polling checked against template.yaml"
        )
    if run.clicks is not None:
        links = run.clicks.links
        genuine = [link for link in links if link.tampering is None]
        tampered = Counter(str(link.tampering) for link in links if link.tampering is not None)
        lines.append(
            f"  one-click: {len(genuine)} links clicked {sum(link.clicks for link in genuine)} times"
            f" ({sum(link.clicks > 1 for link in genuine)} clicked again,"
            f" {sum(link.late for link in genuine)} clicks late), {run.clicks.clicked_again} clicks repeated"
            f" after a 429 or 5xx; {sum(tampered.values())} tampered tokens clicked ({_counts(tampered)})"
        )
    lines += [f"  FAILED: {problem}" for problem in run.verdict.problems]
    lines.append(run.verdict.final_line())
    return lines
