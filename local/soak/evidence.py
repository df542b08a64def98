"""What a soak run left behind, read from the stack's state once the queue has drained.

Only state counts, never the function's logs: opt-outs and per-address call counts from the
sandbox, every message on the DLQ with its attributes, what the event source deleted, what is
left on the queue, and the idempotency records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local.hubspot_sandbox import HubSpotSandbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

# Long enough that no letter comes back while the DLQ is being read.
READ_VISIBILITY_S = 600


@dataclass(frozen=True)
class Letter:
    """A message on the DLQ: parked by the function (with attributes) or moved there by redrive."""

    message_id: str
    body: str
    attributes: Mapping[str, str]

    @property
    def source_id(self) -> str:
        """The source queue's id for the message: the attribute, else its own (redrive keeps it)."""
        return self.attributes.get("sourceMessageId", self.message_id)

    @property
    def reason(self) -> str | None:
        return self.attributes.get("reason")


@dataclass(frozen=True)
class Evidence:
    opted_out: frozenset[str]  # lower-cased subscribers HubSpot holds an opt-out for
    successful_unsubscribes: Mapping[str, int]  # per lower-cased subscriber
    letters: list[Letter]
    acknowledged: frozenset[str]  # message ids the event source deleted
    queue_depth: int  # visible, in flight and delayed
    idempotency_records: list[dict[str, Any]]
    faults: Counter[str]  # HubSpot calls by injected fault, and real 401s (old token) and 429s


def read_letters(sqs: SQSClient, queue_url: str) -> list[Letter]:
    letters: list[Letter] = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        VisibilityTimeout=READ_VISIBILITY_S,
    ).get("Messages", []):
        letters += [
            Letter(
                message["MessageId"],
                message["Body"],
                {
                    name: value.get("StringValue", "")
                    for name, value in message.get("MessageAttributes", {}).items()
                },
            )
            for message in messages
        ]
    return letters


def queue_depth(sqs: SQSClient, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def read_table(dynamodb: DynamoDBClient, table_name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        items += page["Items"]
    return items


def hubspot_faults(sandbox: HubSpotSandbox) -> Counter[str]:
    faults: Counter[str] = Counter()
    for call in sandbox.calls():
        if call.fault is not None:
            faults[call.fault] += 1
        elif call.status in (401, 429):
            faults[f"{call.status} (not injected)"] += 1
    return faults


def opted_out(sandbox: HubSpotSandbox) -> frozenset[str]:
    return frozenset(entry["subscriberIdString"].lower() for entry in sandbox.state()["optOuts"])
