"""The handler's API Gateway path: own routes and the HubSpot facade, against moto and the sandbox."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from local.runners.lambda_context import LocalLambdaContext
from local.runners.lambda_invoker import load_handler
from tests.events import load_event
from tests.integration.function_harness import api_event, invoke

FUNCTION_CODE = Path(__file__).parents[2] / "functions" / "unsubscribe_all"
FACADE = "/communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all"
FACADE_BATCH = "/communication-preferences/{version}/statuses/batch/unsubscribe-all"


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def header(response: dict[str, Any], name: str) -> str:
    """A response header; Powertools' REST resolver answers with multiValueHeaders."""
    [value] = response["multiValueHeaders"][name]
    return str(value)


def assert_hubspot_error(response: dict[str, Any], status: int, category: str) -> dict[str, Any]:
    body = body_of(response)
    assert response["statusCode"] == status
    assert body["status"] == "error"
    assert body["category"] == category
    assert body["message"]
    assert body["correlationId"]
    return dict(body)


def post_unsubscribe(body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return dict(invoke(api_event("POST", "/unsubscribe-all", body=body, headers=headers)))


@pytest.mark.parametrize(
    "event_name",
    [
        "api-unsubscribe-all",
        "api-unsubscribe-all-status",
        "api-facade-unsubscribe-all",
        "api-facade-batch-unsubscribe-all",
    ],
)
def test_each_sample_api_event_is_answered_with_success(function_stack, event_name):
    # Given a sample API event, when the function handles it, then it succeeds
    response = invoke(load_event(event_name))
    assert response["statusCode"] == 200
    assert body_of(response)["results"] is not None


def test_post_unsubscribes_and_answers_with_hubspots_body(function_stack):
    # When an address is posted
    response = post_unsubscribe({"subscriberIdString": "jane@example.com", "verbose": True})

    # Then HubSpot unsubscribed it and its answer is passed on
    body = body_of(response)
    assert response["statusCode"] == 200
    assert {result["setStatusSuccessReason"] for result in body["results"]} == {
        "UNSUBSCRIBE_FROM_ALL_OCCURRED"
    }
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_a_repeated_idempotency_key_is_answered_from_the_store(function_stack):
    # Given a request that succeeded under an Idempotency-Key
    headers = {"Idempotency-Key": "request-1"}
    first = post_unsubscribe({"subscriberIdString": "jane@example.com", "verbose": True}, headers)

    # When it is sent again
    second = post_unsubscribe({"subscriberIdString": "jane@example.com", "verbose": True}, headers)

    # Then the second answer is a replay of the same statuses, without a HubSpot call
    assert second["statusCode"] == 200
    assert header(second, "Idempotent-Replayed") == "true"
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    assert [r["subscriptionId"] for r in body_of(second)["results"]] == [
        r["subscriptionId"] for r in body_of(first)["results"]
    ]
    assert {r["subscriberIdString"] for r in body_of(second)["results"]} == {"jane@example.com"}


def test_the_stored_record_holds_no_address(function_stack):
    # Given an unsubscribe under a key
    post_unsubscribe({"subscriberIdString": "jane.doe@example.com"}, {"Idempotency-Key": "k"})

    # When the idempotency table is read, then no item holds the address in full
    items = function_stack.session.client("dynamodb").scan(TableName=function_stack.resources.table_name)[
        "Items"
    ]
    assert items
    assert "jane.doe@example.com" not in json.dumps(items)
    assert "j***@example.com" in json.dumps(items)


def test_a_key_reused_with_another_payload_is_422(function_stack):
    post_unsubscribe({"subscriberIdString": "jane@example.com"}, {"Idempotency-Key": "k"})
    response = post_unsubscribe({"subscriberIdString": "john@example.com"}, {"Idempotency-Key": "k"})
    assert_hubspot_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert "john@example.com" not in function_stack.hubspot.successful_unsubscribes()


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("not json", None),
        ("", None),
        ("[]", None),
        ({"email": 42}, "email"),
        ({"subscriberIdString": "no-at-sign"}, "subscriberIdString"),
        ({}, "subscriberIdString"),
        ({"subscriberIdString": "a@example.com", "businessUnitId": "7"}, "businessUnitId"),
        ({"subscriberIdString": "a@example.com", "channel": "SMS"}, "channel"),
        ({"subscriberIdString": "a@example.com", "pad": "x" * 17_000}, "body"),
    ],
)
def test_bad_input_is_a_400_validation_error(function_stack, body, where):
    # When a bad body is posted, then the answer is a 400 in HubSpot's error shape
    error = assert_hubspot_error(post_unsubscribe(body), 400, "VALIDATION_ERROR")
    if where is not None:
        assert error["errors"][0]["in"] == where
    assert function_stack.hubspot.calls() == []


def test_a_base64_body_is_decoded(function_stack):
    event = api_event(
        "POST", "/unsubscribe-all", body=base64.b64encode(b'{"email": "jane@example.com"}').decode()
    )
    event["isBase64Encoded"] = True
    assert invoke(event)["statusCode"] == 200


def test_differing_idempotency_header_and_field_are_refused(function_stack):
    response = post_unsubscribe(
        {"subscriberIdString": "a@example.com", "idempotencyKey": "x"}, {"Idempotency-Key": "y"}
    )
    assert_hubspot_error(response, 400, "VALIDATION_ERROR")


def test_a_rate_limit_is_a_429_with_retry_after(function_stack):
    function_stack.hubspot.configure(fault_retry_after_s=30, quirks=["retry-after"])
    function_stack.hubspot.script_faults(["429"])
    response = post_unsubscribe({"subscriberIdString": "jane@example.com"})
    assert_hubspot_error(response, 429, "RATE_LIMITS")
    assert int(header(response, "Retry-After")) >= 30


def test_a_failing_hubspot_is_a_502_and_the_error_is_not_cached(function_stack):
    # Given a HubSpot failing every call
    function_stack.hubspot.configure(fault_rates={"502": 1.0})
    headers = {"Idempotency-Key": "k"}

    # When a request is made, then it is a 502
    assert_hubspot_error(
        post_unsubscribe({"subscriberIdString": "jane@example.com"}, headers), 502, "UPSTREAM_ERROR"
    )

    # And after HubSpot recovers the same request succeeds
    function_stack.hubspot.configure(fault_rates={})
    assert post_unsubscribe({"subscriberIdString": "jane@example.com"}, headers)["statusCode"] == 200


def test_an_unreadable_token_is_a_503(function_stack):
    secrets = function_stack.session.client("secretsmanager")
    secrets.delete_secret(SecretId=function_stack.resources.secret_id, ForceDeleteWithoutRecovery=True)
    assert_hubspot_error(
        post_unsubscribe({"subscriberIdString": "jane@example.com"}), 503, "TOKEN_UNAVAILABLE"
    )


def test_a_hubspot_rejection_is_a_400(function_stack):
    function_stack.hubspot.configure(invalid_subscribers="^refused@")
    assert_hubspot_error(
        post_unsubscribe({"subscriberIdString": "refused@example.com"}), 400, "VALIDATION_ERROR"
    )


def test_status_reads_hubspots_unsubscribe_all_status(function_stack):
    # Given an address unsubscribed from business unit 3
    post_unsubscribe({"subscriberIdString": "o'hara+tag@example.com", "businessUnitId": 3})

    # When its status is read for that unit, through its percent-encoded path segment
    event = api_event(
        "GET",
        "/unsubscribe-all/o%27hara%2Btag%40example.com",
        query={"businessUnitId": "3"},
        resource="/unsubscribe-all/{subscriberIdString}",
    )
    response = invoke(event)

    # Then HubSpot's wide status says unsubscribed
    assert response["statusCode"] == 200
    [status] = body_of(response)["results"]
    assert status["status"] == "UNSUBSCRIBED"
    assert status["subscriberIdString"] == "o'hara+tag@example.com"


@pytest.mark.parametrize("address", ["a/../../crm@x.com", "a?b@x.com", "a#b@x.com", "a%2F@x.com"])
def test_the_facade_keeps_an_address_in_one_segment_both_ways(function_stack, address):
    # Given a HubSpot client calling the facade with the address percent-encoded in the path
    path = f"/communication-preferences/2026-03/statuses/{quote(address, safe='')}/unsubscribe-all"
    event = api_event("POST", path, query={"channel": "EMAIL"}, resource=FACADE)

    # When it is handled
    response = invoke(event)

    # Then the very same address reached HubSpot, in one segment
    assert response["statusCode"] == 200
    [call] = function_stack.hubspot.calls()
    assert call.request.subscriber == address


def test_the_facade_wants_hubspots_channel_parameter(function_stack):
    event = api_event(
        "POST", "/communication-preferences/v4/statuses/a%40x.com/unsubscribe-all", resource=FACADE
    )
    error = assert_hubspot_error(invoke(event), 400, "VALIDATION_ERROR")
    assert error["errors"][0]["in"] == "channel"


def test_the_facade_batch_answers_per_input(function_stack):
    # Given a batch with a valid address, an invalid one, and one HubSpot refuses
    function_stack.hubspot.configure(invalid_subscribers="^refused@")
    event = api_event(
        "POST",
        "/communication-preferences/v4/statuses/batch/unsubscribe-all",
        query={"channel": "EMAIL", "verbose": "true"},
        body={"inputs": ["a@example.com", "not an address", "refused@example.com"]},
        resource=FACADE_BATCH,
    )

    # When it is handled
    response = invoke(event)

    # Then the answer is a 200 (HubSpot's contract) with an error naming each other inside
    body = body_of(response)
    assert response["statusCode"] == 200
    assert [result["subscriberIdString"] for result in body["results"]] == ["a@example.com"]
    assert body["numErrors"] == 2
    named = {name for error in body["errors"] for name in error["context"]["subscriberIdString"]}
    assert named == {"not an address", "refused@example.com"}


def test_an_unknown_route_is_a_hubspot_shaped_404(function_stack):
    assert_hubspot_error(invoke(api_event("GET", "/nowhere")), 404, "OBJECT_NOT_FOUND")


def test_an_unknown_facade_version_is_a_404(function_stack):
    event = api_event(
        "POST", "/communication-preferences/v9/statuses/a%40x.com/unsubscribe-all", query={"channel": "EMAIL"}
    )
    assert_hubspot_error(invoke(event), 404, "OBJECT_NOT_FOUND")


def test_concurrent_invocations_in_one_process_each_answer_their_own_request(function_stack):
    # Given two execution environments of the function in one process, as the local runners keep
    # them, and a HubSpot that takes 400 ms to refuse one address
    first, second = (load_handler(FUNCTION_CODE, "app.lambda_handler") for _ in range(2))
    function_stack.hubspot.configure(latency_ms=400, invalid_subscribers="^refused@")
    refused = api_event("POST", "/unsubscribe-all", body={"subscriberIdString": "refused@example.com"})
    answers: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: answers.update(refused=first(refused, LocalLambdaContext())))
    thread.start()
    table = function_stack.session.client("dynamodb")
    while not table.scan(TableName=function_stack.resources.table_name)["Items"]:
        assert thread.is_alive(), "the first invocation ended before it reached HubSpot"

    # When the other environment answers another request while the first waits on HubSpot
    accepted = api_event("POST", "/unsubscribe-all", body={"subscriberIdString": "jane@example.com"})
    answers["accepted"] = second(accepted, LocalLambdaContext())
    thread.join()

    # Then each answer belongs to its own request
    body = assert_hubspot_error(answers["refused"], 400, "VALIDATION_ERROR")
    assert body["correlationId"] == refused["requestContext"]["requestId"]
    assert answers["accepted"]["statusCode"] == 200
