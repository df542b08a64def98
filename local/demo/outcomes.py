"""What became of each demo message, read from the evidence the local stack leaves behind.

The dead-letter queue (the function parks a message with `reason` and `sourceMessageId`
attributes; the queue's redrive moves one with its own MessageId), the event source's receive
counts and deletions, and the HubSpot sandbox's opt-outs and successful calls say, between them,
whether a message was unsubscribed, found the person already unsubscribed, was replayed as a
duplicate, was retried first, or was dead-lettered and why.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class OutcomeKind(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    ALREADY_UNSUBSCRIBED = "already unsubscribed"
    DUPLICATE_REPLAYED = "duplicate replayed"
    RETRIED_THEN_UNSUBSCRIBED = "retried, then unsubscribed"
    DEAD_LETTERED = "dead-lettered"
    NOT_SETTLED = "not settled"
    DELETED_WITHOUT_UNSUBSCRIBE = "deleted, but HubSpot never unsubscribed the address"


@dataclass(frozen=True)
class Expectation:
    kind: OutcomeKind
    reason: str | None = None  # a dead letter's `reason`

    def describe(self) -> str:
        return f"{self.kind} ({self.reason})" if self.reason else str(self.kind)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    reason: str | None = None  # a dead letter's `reason`; None when the redrive moved it
    receives: int = 0

    def meets(self, expected: Expectation) -> bool:
        return self.kind is expected.kind and (expected.reason is None or self.reason == expected.reason)

    def describe(self) -> str:
        if self.kind is OutcomeKind.RETRIED_THEN_UNSUBSCRIBED:
            retries = self.receives - 1
            return f"retried {retries} time{'s' if retries > 1 else ''}, then unsubscribed"
        if self.kind is OutcomeKind.DEAD_LETTERED:
            why = self.reason or f"redrive after {self.receives} receives"
            return f"dead-lettered ({why})"
        return str(self.kind)


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    subscriber: str | None  # None when the body is not a valid request
    idempotency_key: str | None


@dataclass(frozen=True)
class Evidence:
    dead_letter_reasons: Mapping[str, str | None]  # source MessageId -> reason (None: moved by redrive)
    receive_counts: Mapping[str, int]
    deleted: Collection[str]
    unsubscribes: Mapping[str, int]  # successful unsubscribe calls during the demo, by lower-cased address
    opted_out_before: Collection[str]  # lower-cased addresses


def outcomes(sent: Sequence[SentMessage], evidence: Evidence) -> list[Outcome]:
    """Each message's outcome, in the order sent (which decides the original of a duplicate)."""
    first_with_key: dict[str, str] = {}
    for message in sent:
        if message.idempotency_key is not None:
            first_with_key.setdefault(message.idempotency_key, message.message_id)
    return [_outcome(message, evidence, first_with_key) for message in sent]


def _outcome(message: SentMessage, evidence: Evidence, first_with_key: Mapping[str, str]) -> Outcome:
    receives = evidence.receive_counts.get(message.message_id, 0)
    if message.message_id in evidence.dead_letter_reasons:
        return Outcome(OutcomeKind.DEAD_LETTERED, evidence.dead_letter_reasons[message.message_id], receives)
    if message.message_id not in evidence.deleted or message.subscriber is None:
        return Outcome(OutcomeKind.NOT_SETTLED, receives=receives)
    address = message.subscriber.lower()
    key = message.idempotency_key
    if (
        key is not None
        and first_with_key[key] != message.message_id
        and evidence.unsubscribes.get(address) == 1
    ):
        return Outcome(OutcomeKind.DUPLICATE_REPLAYED, receives=receives)
    if address in evidence.opted_out_before:
        return Outcome(OutcomeKind.ALREADY_UNSUBSCRIBED, receives=receives)
    if not evidence.unsubscribes.get(address):
        return Outcome(OutcomeKind.DELETED_WITHOUT_UNSUBSCRIBE, receives=receives)
    if receives > 1:
        return Outcome(OutcomeKind.RETRIED_THEN_UNSUBSCRIBED, receives=receives)
    return Outcome(OutcomeKind.UNSUBSCRIBED, receives=receives)
