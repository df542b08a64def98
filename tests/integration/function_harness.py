"""Invoking the real handler as Lambda would, with events built from the moto queue itself."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import app
from local.aws.moto_endpoint import REGION
from local.runners.lambda_context import LocalLambdaContext
from local.runners.sqs_batch import sqs_event as event_of
from tests.conftest import FunctionStack
from tests.events import load_event

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef


def invoke(event: Mapping[str, Any], context: LocalLambdaContext | None = None) -> Any:
    """The handler's answer to one event, as Lambda would invoke it."""
    return app.lambda_handler(dict(event), context or LocalLambdaContext())


def send(stack: FunctionStack, bodies: Iterable[Any]) -> list[str]:
    """Sends each body to the function's queue; returns the message ids in order."""
    sqs = stack.session.client("sqs")
    ids = []
    for body in bodies:
        text = body if isinstance(body, str) else json.dumps(body)
        ids.append(sqs.send_message(QueueUrl=stack.resources.queue_url, MessageBody=text)["MessageId"])
    return ids


def receive_event(stack: FunctionStack, expected: int) -> dict[str, Any]:
    """Receives `expected` messages and shapes them as the SQS event source does."""
    sqs = stack.session.client("sqs")
    messages: list[MessageTypeDef] = []
    while len(messages) < expected:
        response = sqs.receive_message(
            QueueUrl=stack.resources.queue_url,
            MaxNumberOfMessages=min(10, expected - len(messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        messages += response.get("Messages", [])
    return event_of(messages, stack.resources.queue_arn, REGION)


def sqs_event(stack: FunctionStack, bodies: Iterable[Any]) -> dict[str, Any]:
    sent = send(stack, bodies)
    return receive_event(stack, len(sent))


def failed_ids(response: Mapping[str, Any]) -> set[str]:
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def settle(event: Mapping[str, Any], rounds: int = 4) -> set[str]:
    """Invokes an SQS batch, then each redelivery of what it left for a retry (as SQS would bring
    them back), up to `rounds` invocations; returns the ids of the records still left."""
    records = list(event["Records"])
    for _ in range(rounds):
        left = failed_ids(invoke({"Records": records}, LocalLambdaContext(timeout_s=30)))
        records = [record for record in records if record["messageId"] in left]
        if not records:
            return set()
    return {record["messageId"] for record in records}


def dead_letters(stack: FunctionStack) -> list[dict[str, Any]]:
    """Everything on the DLQ: body and string attributes."""
    sqs = stack.session.client("sqs")
    letters: list[dict[str, Any]] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=stack.resources.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=30,
        )
        if not response.get("Messages"):
            return letters
        letters += [
            {
                "body": message["Body"],
                **{
                    name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()
                },
            }
            for message in response["Messages"]
        ]


def api_event(
    method: str,
    path: str,
    *,
    body: str | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    resource: str | None = None,
) -> dict[str, Any]:
    """A REST proxy event for this request, shaped like events/api-unsubscribe-all.json."""
    event = load_event("api-unsubscribe-all")
    event.update(
        httpMethod=method,
        path=path,
        resource=resource or path,
        body=body if body is None or isinstance(body, str) else json.dumps(body),
        queryStringParameters=dict(query) if query else None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
    )
    event["headers"] = {"Content-Type": "application/json", **(headers or {})}
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    event["requestContext"] = {
        **event["requestContext"],
        "requestId": str(uuid.uuid4()),
        "httpMethod": method,
    }
    return event
