"""One-click links in tests: minting, opening and clicking them through the handler, and what they left.

Requests are API Gateway proxy events handed to the real handler (`function_harness.invoke`);
the queue is drained by invoking the handler with what SQS delivers, as the event source does.
`served` puts the function behind the local REST API and SQS event source, for tests over HTTP.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

import app
from local.aws.call_log import CallLog
from local.aws.moto_endpoint import REGION
from local.runners.api_gateway import ApiGateway
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import LambdaInvoker
from local.runners.sqs_batch import sqs_event
from local.runners.sqs_event_source import CLIENT_CONFIG as EVENT_SOURCE_CLIENT
from local.runners.sqs_event_source import QueueRef, SqsEventSource
from optout.domain.one_click import PURPOSE, LinkSubject, token_text
from tests.conftest import FunctionStack
from tests.integration.function_harness import api_event, invoke

LINK_ROUTE = "/one-click/{token}"
MINT_ROUTE = "/one-click-links"
FORM = "application/x-www-form-urlencoded"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
BOUNDARY = "----one-click-boundary-7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
MULTIPART_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
    f"One-Click\r\n--{BOUNDARY}--\r\n"
)


def header(response: Mapping[str, Any], name: str) -> str | None:
    """A response header (Powertools' resolver answers with multiValueHeaders), None if absent."""
    values = (response.get("multiValueHeaders") or {}).get(name) or []
    single = (response.get("headers") or {}).get(name)
    return str(values[-1]) if values else single


def mint_response(inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return dict(invoke(api_event("POST", MINT_ROUTE, body={"inputs": list(inputs)})))


def mint(subscriber: str, business_unit_id: int | None = None) -> str:
    """A link for the address, minted through POST /one-click-links."""
    entry: dict[str, Any] = {"subscriberIdString": subscriber}
    if business_unit_id is not None:
        entry["businessUnitId"] = business_unit_id
    response = mint_response([entry])
    assert response["statusCode"] == 200, response["body"]
    url: str = json.loads(response["body"])["results"][0]["url"]
    return url


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def ciphertext_of(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def open_page(token: str) -> dict[str, Any]:
    path = f"/one-click/{token}"
    return dict(invoke(api_event("GET", path, resource=LINK_ROUTE, headers={"Accept": "text/html"})))


def click(token: str, body: str = ONE_CLICK_BODY, content_type: str | None = FORM) -> dict[str, Any]:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    event = api_event("POST", f"/one-click/{token}", body=body, resource=LINK_ROUTE, headers=headers)
    if content_type is None:
        event["headers"].pop("Content-Type")
        event["multiValueHeaders"].pop("Content-Type")
    return dict(invoke(event))


def queue_depth(stack: FunctionStack) -> int:
    attributes = stack.session.client("sqs").get_queue_attributes(
        QueueUrl=stack.resources.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def drain(stack: FunctionStack) -> list[dict[str, Any]]:
    """Hands every message on the queue to the handler, as the event source would; returns the bodies."""
    sqs = stack.session.client("sqs")
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(
        QueueUrl=stack.resources.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", []):
        answer = invoke(sqs_event(messages, stack.resources.queue_arn, REGION))
        assert answer == {"batchItemFailures": []}, answer
        sqs.delete_message_batch(
            QueueUrl=stack.resources.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        bodies += [json.loads(message["Body"]) for message in messages]
    return bodies


def seal(target: FunctionStack, plaintext: bytes, *, key_id: str | None = None, **context: str) -> str:
    """A token made directly with KMS (a key and context of the test's choosing), as a forger would."""
    kms = target.session.client("kms")
    encryption_context = {"purpose": PURPOSE, "stack": target.resources.stack_name, **context}
    blob = kms.encrypt(
        KeyId=key_id or target.resources.link_key_arn,
        Plaintext=plaintext,
        EncryptionContext=encryption_context,
    )["CiphertextBlob"]
    return token_text(blob)


def plaintext(address: str = "victim@example.com", issued_at: int | None = None) -> bytes:
    """A link's plaintext, as the function writes it (issued now unless told otherwise)."""
    return LinkSubject(address, None, int(time.time()) if issued_at is None else issued_at).to_plaintext()


def rebuilt(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """The function's environment with these variables changed, and a cold container to read it."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    app.current_runtime.cache_clear()
    app.current_api.cache_clear()


def refusing_endpoint() -> str:
    """A loopback URL nothing listens on: connections to it are refused."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{unused.getsockname()[1]}"


@dataclass(frozen=True)
class Served:
    """The function behind the local REST API and the local SQS event source, as `make run` serves it."""

    api_url: str
    event_source: SqsEventSource


@contextmanager
def served(
    stack: FunctionStack, function: FunctionDefinition, invoker: LambdaInvoker, calls: CallLog
) -> Iterator[Served]:
    """`calls`: where the CLI's signed requests are recorded as execute-api:Invoke (the permission check)."""
    queue = QueueRef(stack.resources.queue_url, stack.resources.queue_arn, REGION)
    polling = stack.session.client("sqs", config=EVENT_SOURCE_CLIENT)
    with (
        SqsEventSource(polling, queue, invoker, function.sqs_trigger) as source,
        ApiGateway(invoker, function.api_routes, function.api_stage, port=0, calls=calls) as api,
    ):
        yield Served(api.url, source)
