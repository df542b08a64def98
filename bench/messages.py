"""Unsubscribe requests on a scenario's queue, and SQS events made of them, as Lambda builds them."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from local.aws.moto_endpoint import REGION
from local.runners.sqs_batch import sqs_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

    from local.aws.resources import LocalResources

SEND_LIMIT = 10  # entries one SendMessageBatch takes


def enqueue(sqs: SQSClient, queue_url: str, count: int) -> None:
    """`count` requests, each for an address of its own."""
    run = uuid.uuid4().hex[:8]
    for start in range(0, count, SEND_LIMIT):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {
                "Id": str(number),
                "MessageBody": json.dumps({"subscriberIdString": f"bench-{run}-{number}@example.com"}),
            }
            for number in range(start, min(count, start + SEND_LIMIT))
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} benchmark messages")


def received_event(sqs: SQSClient, resources: LocalResources, count: int) -> dict[str, Any]:
    """`count` fresh requests, sent and received, as one SQS event."""
    enqueue(sqs, resources.queue_url, count)
    messages: list[MessageTypeDef] = []
    while len(messages) < count:
        messages += sqs.receive_message(
            QueueUrl=resources.queue_url,
            MaxNumberOfMessages=min(SEND_LIMIT, count - len(messages)),
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=1,
        ).get("Messages", [])
    return sqs_event(messages, resources.queue_arn, REGION)
