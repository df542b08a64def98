"""Invoking the real handler as Lambda would, with events built from the moto queue itself.

Every answer to a REST event on one of the template's routes is checked against openapi.yaml on
its way back: one that departs from it fails the test that invoked it (`OffContractAnswerError`),
whatever the test asserts. An event on no route is one API Gateway never sends (it answers 403
itself); the function's answer to it (a defensive 404) has no contract to meet.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import app
from local.aws.moto_endpoint import REGION
from local.aws.resources import TemplateReader
from local.runners.api_contract import AnswerContract, proxy_answer
from local.runners.api_routes import RouteTable
from local.runners.function_definition import ApiRoute, FunctionDefinition
from local.runners.lambda_context import LocalLambdaContext
from local.runners.sqs_batch import sqs_event as event_of
from tests.conftest import FunctionStack
from tests.events import load_event

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef


class OffContractAnswerError(AssertionError):
    """The function answered a REST event with something openapi.yaml does not document."""


TEMPLATE_ROUTES = FunctionDefinition.from_template(TemplateReader.from_file(), "local-test").api_routes


def invoke(event: Mapping[str, Any], context: LocalLambdaContext | None = None) -> Any:
    """The handler's answer to one event, as Lambda would invoke it; a routed REST answer checked."""
    response = app.lambda_handler(dict(event), context or LocalLambdaContext())
    if ApiRoute(str(event.get("resource")), str(event.get("httpMethod"))) in TEMPLATE_ROUTES:
        assert_documented(event, response)
    return response


def assert_documented(event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """Raises OffContractAnswerError when the answer departs from openapi.yaml."""
    answer = proxy_answer(event, response)
    problems = AnswerContract.load().problems(answer)
    if problems:
        raise OffContractAnswerError(
            f"{answer.method} {answer.route} answered {answer.status}, off the contract: "
            + "; ".join(problems)
        )


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
    """A REST proxy event for this request, shaped like events/api-unsubscribe-all.json. Its
    `resource` is the template's route the path matches, as API Gateway picks it (else the path
    itself: an event API Gateway would never send), and its path parameters are that route's."""
    event = load_event("api-unsubscribe-all")
    routes = RouteTable([ApiRoute(resource, method)] if resource else TEMPLATE_ROUTES)
    match = routes.match(method, path)
    resource = match.route.path if match else resource or path
    event.update(
        httpMethod=method,
        path=path,
        resource=resource,
        pathParameters=(match.path_parameters or None) if match else None,
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
        "path": f"/{event['requestContext']['stage']}{path}",
        "resourcePath": resource,
    }
    return event
