"""Helpers shared by the operator CLI's integration tests (this module holds no tests).

The CLI is pointed at moto the way an operator's is pointed at `make run`: through a local
stack state file naming the endpoint and the stack's queues.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.aws.moto_endpoint import ACCOUNT_ID, REGION

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from local.aws.resources import LocalResources


def write_local_state(
    folder: Path,
    endpoint_url: str,
    resources: LocalResources,
    *,
    api_url: str = "http://127.0.0.1:9/Prod/",
    hubspot_base_url: str = "http://127.0.0.1:9",
) -> Path:
    """The file `make run` writes, for this test's stack."""
    path = folder / "local-stack.json"
    path.write_text(
        json.dumps(
            {
                "awsEndpointUrl": endpoint_url,
                "region": "us-east-1",
                "queueUrl": resources.queue_url,
                "deadLetterQueueUrl": resources.dead_letter_queue_url,
                "apiUrl": api_url,
                "hubspotBaseUrl": hubspot_base_url,
            }
        ),
        encoding="utf-8",
    )
    return path


def drain(sqs: SQSClient, queue_url: str) -> list[MessageTypeDef]:
    """Every message on the queue, received (and hidden for 5 minutes) but not deleted."""
    messages: list[MessageTypeDef] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return messages
        messages += batch


def bodies(messages: list[MessageTypeDef]) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in messages]


def queued_bodies(queue_url: str) -> list[dict[str, Any]]:
    """Every message on a moto queue, visible or not, read from moto's in-process backend.

    moto's ReceiveMessage (and SendMessage) walk the whole queue on every call, so receiving
    1,000 messages 10 at a time takes tens of seconds; the `moto_endpoint` fixture runs moto in
    this process, so its state can be read directly, in one pass, without changing it.
    """
    from moto.sqs.models import sqs_backends  # noqa: PLC0415 - moto internals, only where needed

    queue = sqs_backends[ACCOUNT_ID][REGION].get_queue(queue_url.rsplit("/", 1)[-1])
    return [json.loads(message.body) for message in queue._messages]
