"""The local REST API against the real handler (and a recording one for event shapes), over sockets."""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from local.runners.api_contract import AnswerContract
from local.runners.api_gateway import CONTRACT_VIOLATION_HEADER, ApiGateway
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import LambdaInvoker
from tests.events import load_event

API_SAMPLES = [
    "api-unsubscribe-all",
    "api-unsubscribe-all-status",
    "api-facade-unsubscribe-all",
    "api-facade-batch-unsubscribe-all",
]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def call(
    url: str, method: str, target: str, body: str | None = None, headers: Mapping[str, str] | None = None
) -> Answer:
    """One request with the target sent exactly as given (no re-encoding)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


class RecordingHandler:
    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer if answer is not None else {"statusCode": 200, "body": "{}"}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.answer


@pytest.fixture
def recording_handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def recorded_api(
    function_definition: FunctionDefinition, recording_handler: RecordingHandler
) -> Iterator[ApiGateway]:
    """The API in front of a handler that records its events."""
    invoker = LambdaInvoker(function_definition, load=lambda: recording_handler)
    with ApiGateway(invoker, function_definition.api_routes, function_definition.api_stage, port=0) as api:
        yield api


@pytest.fixture
def api(local_api: ApiGateway) -> ApiGateway:
    """The API in front of the real handler, on this test's function_stack (answers checked)."""
    return local_api


def sample_request(sample: Mapping[str, Any]) -> tuple[str, str, str | None, dict[str, str]]:
    query = sample["queryStringParameters"]
    target = sample["path"] + (f"?{urlencode(query)}" if query else "")
    headers = {
        name: value for name, value in sample["headers"].items() if name.startswith(("Content", "Idem"))
    }
    return sample["httpMethod"], target, sample["body"], headers


@pytest.mark.parametrize("sample_name", API_SAMPLES)
def test_a_request_reaches_the_function_as_the_rest_proxy_event_api_gateway_sends(
    recorded_api, recording_handler, sample_name
):
    # Given the request behind one of the sample REST proxy events in events/
    sample = load_event(sample_name)
    method, target, body, headers = sample_request(sample)

    # When it is sent to the local API
    answer = call(recorded_api.url, method, target, body, headers)

    # Then the function got an event with the sample's keys, route and values
    assert answer.status == 200
    [event] = recording_handler.events
    assert set(event) == set(sample)
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(sample["requestContext"]["identity"])
    for key in (
        "resource",
        "path",
        "httpMethod",
        "pathParameters",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "body",
        "isBase64Encoded",
    ):
        assert event[key] == sample[key], key
    context = event["requestContext"]
    for key in ("resourcePath", "httpMethod", "stage", "protocol"):
        assert context[key] == sample["requestContext"][key], key
    # The path as called: the local API is served at its root, as a custom domain mapped at its
    # root is (the samples came in on the execute-api host, whose paths begin with the stage)
    assert sample["requestContext"]["path"] == f"/{sample['requestContext']['stage']}{sample['path']}"
    assert context["path"] == event["path"]
    assert {name: value for name, value in event["headers"].items() if name in headers} == headers
    assert event["multiValueHeaders"]["Host"] == [event["headers"]["Host"]]
    # And the answer carries the request id the function saw
    assert answer.header("x-amzn-RequestId") == [context["requestId"]]


def test_the_path_stays_percent_encoded_and_path_parameters_are_decoded(recorded_api, recording_handler):
    # Given an address with characters that must be percent-encoded in a path, %2F included
    target = "/unsubscribe-all/o%27hara%2Fsales%2Bnews%40example.com"

    # When it is asked for
    call(recorded_api.url, "GET", target)

    # Then it is one path segment: path as received, parameter decoded once ('+' stays '+')
    [event] = recording_handler.events
    assert event["resource"] == "/unsubscribe-all/{subscriberIdString}"
    assert event["path"] == target
    assert event["pathParameters"] == {"subscriberIdString": "o'hara/sales+news@example.com"}


def test_repeated_query_parameters_and_headers_keep_every_value(recorded_api, recording_handler):
    # Given a request repeating a query parameter and a header
    target = "/communication-preferences/v4/statuses/a%40example.com/unsubscribe-all?channel=EMAIL&x=1&x=2"

    # When it is sent
    call(recorded_api.url, "GET", target, headers={"X-Tag": "a"})

    # Then the single-value maps hold the last value and the multi-value maps hold all of them
    [event] = recording_handler.events
    assert event["queryStringParameters"] == {"channel": "EMAIL", "x": "2"}
    assert event["multiValueQueryStringParameters"] == {"channel": ["EMAIL"], "x": ["1", "2"]}
    assert event["pathParameters"] == {"version": "v4", "subscriberIdString": "a@example.com"}


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/nowhere"),
        ("DELETE", "/unsubscribe-all"),  # a route of the template, not with this method
        ("POST", "/unsubscribe-all/too/many/segments"),
        ("GET", "/api/unsubscribe-all/a%40example.com"),  # the stage is not part of the local path
    ],
)
def test_a_request_no_route_matches_gets_api_gateways_missing_authentication_token(
    recorded_api, recording_handler, method, target
):
    # Given a method and path the template declares no route for
    # When it is sent
    answer = call(recorded_api.url, method, target)

    # Then API Gateway's 403 comes back and the function is not invoked
    assert answer.status == 403
    assert answer.json() == {"message": "Missing Authentication Token"}
    assert recording_handler.events == []


@pytest.mark.parametrize(
    ("content_length", "status"), [("9" * 5000, 413), (str(10 * 1024 * 1024 + 1), 413), ("ten", 400)]
)
def test_a_content_length_past_the_payload_limit_or_not_a_number_is_refused_unread(
    recorded_api, recording_handler, content_length, status
):
    # Given a request whose Content-Length is huge or not a number
    # When it is sent
    answer = call(recorded_api.url, "POST", "/unsubscribe-all", "{}", {"Content-Length": content_length})

    # Then it is refused as API Gateway would, and the function is not invoked
    assert answer.status == status
    assert recording_handler.events == []


def test_the_proxy_answer_becomes_the_http_response(recorded_api, recording_handler):
    # Given a function answering with both header maps and a base64 body
    recording_handler.answer = {
        "statusCode": 201,
        "headers": {"X-One": "1", "X-Both": "ignored"},
        "multiValueHeaders": {"X-Both": ["a", "b"]},
        "body": base64.b64encode(b"\x00binary").decode(),
        "isBase64Encoded": True,
    }

    # When a request is answered
    answer = call(recorded_api.url, "POST", "/unsubscribe-all", "{}")

    # Then status, merged headers and decoded body are what the function said
    assert answer.status == 201
    assert answer.header("X-One") == ["1"]
    assert answer.header("X-Both") == ["a", "b"]
    assert answer.body == b"\x00binary"


@pytest.mark.parametrize(
    "handler_answer", [{"body": "no status"}, "not a proxy answer", {"statusCode": "OK"}]
)
def test_a_function_answer_that_is_not_a_proxy_response_gets_502(
    recorded_api, recording_handler, handler_answer
):
    # Given a function answering with something API Gateway cannot turn into a response
    recording_handler.answer = handler_answer

    # When a request is answered
    answer = call(recorded_api.url, "POST", "/unsubscribe-all", "{}")

    # Then the caller gets API Gateway's 502
    assert answer.status == 502
    assert answer.json() == {"message": "Internal server error"}


@pytest.mark.parametrize(
    ("function_timeout_s", "integration_timeout_s", "status", "message"),
    [
        pytest.param(0.2, 29.0, 502, "Internal server error", id="the-function-times-out"),
        pytest.param(30.0, 0.2, 504, "Endpoint request timed out", id="api-gateway-stops-waiting"),
    ],
)
def test_an_answer_that_comes_too_late_gets_api_gateways_error(
    function_definition, function_timeout_s, integration_timeout_s, status, message
):
    # Given a function still running when its timeout, or the integration's, ends
    release = threading.Event()

    def stuck_handler(event: dict[str, Any], context: Any) -> None:
        release.wait(30)

    invoker = LambdaInvoker(
        replace(function_definition, timeout_s=function_timeout_s), load=lambda: stuck_handler
    )
    with ApiGateway(
        invoker,
        function_definition.api_routes,
        function_definition.api_stage,
        port=0,
        integration_timeout_s=integration_timeout_s,
    ) as gateway:
        # When a request is sent
        answer = call(gateway.url, "POST", "/unsubscribe-all", "{}")
        release.set()

    # Then API Gateway answers for the function: 502 for a Lambda timeout, 504 for its own
    assert answer.status == status
    assert answer.json() == {"message": message}


def test_a_post_unsubscribes_the_address_through_the_real_handler(api, function_stack):
    # Given the local API in front of the real function and the HubSpot sandbox
    address = "api.caller@example.com"

    # When a caller posts an unsubscribe request, then asks for the status
    posted = call(
        api.url,
        "POST",
        "/unsubscribe-all",
        json.dumps({"subscriberIdString": address, "verbose": True}),
        {"Content-Type": "application/json"},
    )
    status = call(api.url, "GET", "/unsubscribe-all/api.caller%40example.com")

    # Then HubSpot unsubscribed the address once, and both answers say so
    assert posted.status == 200, posted.body
    assert {entry["status"] for entry in posted.json()["results"]} == {"UNSUBSCRIBED"}
    assert function_stack.hubspot.successful_unsubscribes() == {address: 1}
    assert status.status == 200, status.body
    assert [(entry["subscriberIdString"], entry["status"]) for entry in status.json()["results"]] == [
        (address, "UNSUBSCRIBED")
    ]


BATCH_TARGET = "/communication-preferences/v4/statuses/batch/unsubscribe-all?channel=EMAIL"
NOW = "2026-12-06T10:00:00.000Z"


@pytest.mark.parametrize(
    ("function_answer", "status"),
    [
        pytest.param({"statusCode": 207, "body": "{}"}, 500, id="off the contract: replaced"),
        pytest.param(
            {
                "statusCode": 200,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(
                    {"status": "COMPLETE", "results": [], "startedAt": NOW, "completedAt": NOW}
                ),
            },
            200,
            id="as documented: passed on",
        ),
        pytest.param("not a proxy answer", 502, id="API Gateway's own documented 502: passed on"),
    ],
)
def test_with_the_contract_an_answer_off_it_becomes_a_500_no_caller_accepts(
    function_definition, function_answer, status
):
    # Given the local API, checking answers against openapi.yaml, in front of a handler
    invoker = LambdaInvoker(function_definition, load=lambda: RecordingHandler(function_answer))
    with ApiGateway(
        invoker,
        function_definition.api_routes,
        function_definition.api_stage,
        port=0,
        contract=AnswerContract.load(),
    ) as gateway:
        # When a facade batch request is answered
        answer = call(gateway.url, "POST", BATCH_TARGET, json.dumps({"inputs": ["a@example.com"]}))

    # Then a documented answer passes unchanged; one off the contract is a 500 naming the problem
    assert answer.status == status
    violated = status == 500
    assert answer.header(CONTRACT_VIOLATION_HEADER) == (["true"] if violated else [])
    assert len(gateway.contract_violations) == violated
    if violated:
        assert "documents no 207" in answer.json()["problems"][0]
        assert "documents no 207" in gateway.contract_violations[0]
