"""The demo's messages, in the steps they are sent, each with the outcome it should reach.

First the request bodies of the sample SQS events in events/ (plain, SNS- and EventBridge-
wrapped) with an invalid address, one HubSpot rejects and one already unsubscribed there; then
a duplicate (an idempotencyKey seen before), sent once its original is settled, so it is
replayed from the idempotency store; then a burst while HubSpot answers 429.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from local.demo.outcomes import Expectation, OutcomeKind
from optout.domain.request import InvalidRequestError
from optout.triggers.message_body import parse_message_body

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
EVENT_FILES = ("sqs-batch.json", "sqs-sns-wrapped.json", "sqs-eventbridge-wrapped.json")
ALREADY_UNSUBSCRIBED = "already.gone@example.com"
# The sandbox is told to refuse this domain as HubSpot refuses an address it will not accept.
REFUSED_DOMAIN = "refused.example"
BURST_SIZE = 5


@dataclass(frozen=True)
class DemoMessage:
    label: str  # where it comes from
    body: str
    expected: Expectation


@dataclass(frozen=True)
class DemoStep:
    title: str
    messages: tuple[DemoMessage, ...]
    rate_limited: bool = False  # HubSpot answers every call with 429 until each message was tried once


def _request(subscriber: str) -> str:
    return json.dumps({"subscriberIdString": subscriber})


def _event_file_messages(events_dir: Path) -> list[DemoMessage]:
    unsubscribed = Expectation(OutcomeKind.UNSUBSCRIBED)
    messages = []
    for name in EVENT_FILES:
        records = json.loads((events_dir / name).read_text(encoding="utf-8"))["Records"]
        messages += [
            DemoMessage(f"events/{name} #{number}", record["body"], unsubscribed)
            for number, record in enumerate(records, start=1)
        ]
    return messages


def _has_idempotency_key(message: DemoMessage) -> bool:
    try:
        return parse_message_body(message.body).idempotency_key is not None
    except InvalidRequestError:
        return False


def demo_steps(events_dir: Path = EVENTS_DIR) -> list[DemoStep]:
    from_events = _event_file_messages(events_dir)
    original = next(message for message in from_events if _has_idempotency_key(message))
    return [
        DemoStep(
            "the requests in events/, an invalid address, one HubSpot refuses, one already unsubscribed",
            (
                *from_events,
                DemoMessage(
                    "invalid address",
                    _request("not-an-email"),
                    Expectation(OutcomeKind.DEAD_LETTERED, "INVALID_EMAIL"),
                ),
                DemoMessage(
                    "HubSpot refuses it",
                    _request(f"bounced@{REFUSED_DOMAIN}"),
                    Expectation(OutcomeKind.DEAD_LETTERED, "HUBSPOT_REJECTED"),
                ),
                DemoMessage(
                    "opted out before",
                    _request(ALREADY_UNSUBSCRIBED),
                    Expectation(OutcomeKind.ALREADY_UNSUBSCRIBED),
                ),
            ),
        ),
        DemoStep(
            "the same idempotencyKey again",
            (
                DemoMessage(
                    f"duplicate of {original.label}",
                    original.body,
                    Expectation(OutcomeKind.DUPLICATE_REPLAYED),
                ),
            ),
        ),
        DemoStep(
            "a burst while HubSpot answers 429",
            tuple(
                DemoMessage(
                    f"burst {number}/{BURST_SIZE}",
                    _request(f"burst-{number}@example.com"),
                    Expectation(OutcomeKind.RETRIED_THEN_UNSUBSCRIBED),
                )
                for number in range(1, BURST_SIZE + 1)
            ),
            rate_limited=True,
        ),
    ]
