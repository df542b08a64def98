"""Did the soak lose anything, do anything twice, park the wrong thing, or leak? Counted from evidence.

Each sent message must end one way: unsubscribed (the event source deleted it and HubSpot holds
the opt-out) or dead-lettered (on the DLQ; only malformed and invalid messages may be, each with
the reason it was planned to get). Anything else is lost. An address (one per idempotency key)
that HubSpot unsubscribed successfully more than once is a duplicate. Problems name message ids,
never addresses.

Each genuine one-click link must have had every click confirmed (200) and its address
unsubscribed exactly once, however often it was clicked; a link never confirmed or never carried
out is lost, one carried out twice duplicated. Every tampered click must be refused (404) and
its address never unsubscribed. Problems name links by their number in the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from local.soak.clicks import ClickResults
from local.soak.evidence import Evidence
from local.soak.leaks import Leak
from local.soak.plan import Kind, PlannedMessage

EXAMPLES = 3
BAD_KINDS = frozenset({Kind.MALFORMED, Kind.INVALID_EMAIL})


@dataclass
class Verdict:
    sent: int = 0
    unsubscribed: int = 0
    dead_lettered: int = 0
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)
    links: int = 0  # genuine one-click links
    clicks: int = 0  # every click, tampered ones included
    tampered_refused: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def final_line(self) -> str:
        sent = f"{self.sent} sent"
        if self.links:
            sent += (
                f" and {self.links} links clicked {self.clicks} times"
                f" ({self.tampered_refused} tampered clicks refused)"
            )
        return (
            f"soak: {sent}, {self.unsubscribed} unsubscribed, {self.dead_lettered} dead-lettered, "
            f"{self.lost} lost, {self.duplicated} duplicated"
        )

    def note(self, what: str, examples: Sequence[str]) -> None:
        if examples:
            shown = ", ".join(examples[:EXAMPLES]) + (", ..." if len(examples) > EXAMPLES else "")
            self.problems.append(f"{len(examples)} {what}: {shown}")


def judge(
    planned: Sequence[PlannedMessage], message_ids: Sequence[str], evidence: Evidence, leaks: Sequence[Leak]
) -> Verdict:
    verdict = Verdict(sent=len(message_ids))
    letters = {letter.source_id: letter for letter in evidence.letters}
    wrong_reason, valid_parked, never_settled, not_unsubscribed = [], [], [], []
    for message, id_ in zip(planned, message_ids, strict=True):
        letter = letters.get(id_)
        if letter is not None:
            verdict.dead_lettered += 1
            if message.kind not in BAD_KINDS:
                valid_parked.append(f"{id_} ({letter.reason or 'moved by redrive, no reason'})")
            elif letter.reason != message.reason:
                wrong_reason.append(f"{id_} ({letter.reason} instead of {message.reason})")
        elif id_ not in evidence.acknowledged:
            never_settled.append(id_)
        elif message.address is None or message.address.lower() not in evidence.opted_out:
            not_unsubscribed.append(f"{id_} ({message.kind})")
        else:
            verdict.unsubscribed += 1
    verdict.lost = len(never_settled) + len(not_unsubscribed)
    stray = sorted(set(letters) - set(message_ids))
    addresses = {message.address.lower() for message in planned if message.address is not None}
    twice = sorted(
        f"{count} calls"
        for address, count in evidence.successful_unsubscribes.items()
        if address in addresses and count > 1
    )
    verdict.duplicated = len(twice)

    verdict.note("lost: never acknowledged nor parked", never_settled)
    verdict.note(
        "lost: acknowledged, but HubSpot holds no opt-out (or a bad message was dropped)", not_unsubscribed
    )
    verdict.note("valid messages dead-lettered", valid_parked)
    verdict.note("messages parked with the wrong reason", wrong_reason)
    verdict.note("letters on the DLQ that the soak did not send", stray)
    verdict.note("idempotency keys (one address each) unsubscribed more than once", twice)
    if evidence.queue_depth:
        verdict.problems.append(f"the queue still holds {evidence.queue_depth} messages")
    verdict.note("leaks", [str(leak) for leak in leaks])
    return verdict


def judge_clicks(verdict: Verdict, results: ClickResults, evidence: Evidence) -> None:
    """Adds the one-click links' outcomes to the verdict (see the module's docstring)."""
    unconfirmed, not_done, twice, tampered_taken = [], [], [], []
    for index, link in enumerate(results.links):
        statuses = results.answers.get(index, [])
        address = link.address.lower()
        done = evidence.successful_unsubscribes.get(address, 0)
        if link.tampering is not None:
            verdict.tampered_refused += statuses.count(404)
            if statuses != [404] * len(statuses) or address in evidence.opted_out:
                tampered_taken.append(f"link {index} ({link.tampering}: {statuses}, {done} unsubscribes)")
            continue
        verdict.links += 1
        if statuses != [200] * link.clicks:
            unconfirmed.append(f"link {index} ({statuses})")
        elif address not in evidence.opted_out:
            not_done.append(f"link {index}")
        elif done > 1:
            twice.append(f"link {index} ({done} calls)")
        else:
            verdict.unsubscribed += 1
    verdict.clicks += results.clicks
    verdict.lost += len(unconfirmed) + len(not_done)
    verdict.duplicated += len(twice)
    verdict.note("lost: one-click links whose clicks were not all confirmed", unconfirmed)
    verdict.note("lost: one-click links confirmed, but HubSpot holds no opt-out", not_done)
    verdict.note("one-click links unsubscribed more than once", twice)
    verdict.note("tampered one-click tokens accepted", tampered_taken)
