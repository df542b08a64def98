"""The function's API answers are what openapi.yaml says: status, headers and body.

A start on checking every answer the suite sees: here the sample API events and one answer of
each kind the function gives on its own (a replay, bad input, an unknown version, a reused key).
To check every answer, wrap `tests.integration.function_harness.invoke` (and the local API
Gateway's answers) with `answer_of` + `answer_problems`, keyed on the event's `resource`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.contract import ApiAnswer, answer_problems, openapi_document
from tests.events import load_event
from tests.integration.function_harness import api_event, invoke

DOCUMENT = openapi_document()
FACADE = "/communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all"


def answer_of(event: Mapping[str, Any], response: Mapping[str, Any]) -> ApiAnswer:
    """A proxy event and the function's proxy response, as the caller sees them."""
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers |= response.get("headers") or {}
    return ApiAnswer(
        event["httpMethod"], event["resource"], response["statusCode"], headers, json.loads(response["body"])
    )


def checked(event: Mapping[str, Any]) -> ApiAnswer:
    answer = answer_of(event, invoke(event))
    assert answer_problems(DOCUMENT, answer) == []
    return answer


@pytest.mark.parametrize(
    "event_name",
    [
        "api-unsubscribe-all",
        "api-unsubscribe-all-status",
        "api-facade-unsubscribe-all",
        "api-facade-batch-unsubscribe-all",
    ],
)
def test_each_sample_events_answer_is_as_documented(function_stack, event_name):
    # Given a sample API event, when the function answers it, then the answer is documented
    answer = checked(load_event(event_name))
    assert answer.status == 200


def test_a_replayed_answer_is_as_documented(function_stack):
    # Given a request done once
    event = load_event("api-unsubscribe-all")
    checked(event)
    # When it is sent again, then the replay is a documented 200 with Idempotent-Replayed
    answer = checked(event)
    assert answer.status == 200
    assert answer.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        pytest.param(
            {"method": "POST", "path": "/unsubscribe-all", "body": {"subscriberIdString": "not an address"}},
            400,
            id="invalid address",
        ),
        pytest.param({"method": "POST", "path": "/unsubscribe-all", "body": "{not json"}, 400, id="not JSON"),
        pytest.param(
            {
                "method": "GET",
                "path": "/communication-preferences/v9/statuses/a%40example.com/unsubscribe-all",
                "resource": FACADE,
            },
            404,
            id="unknown version",
        ),
    ],
)
def test_error_answers_are_as_documented(function_stack, request_, status):
    # Given a request the function refuses, when it answers, then the error is documented
    event = api_event(
        request_["method"],
        request_["path"],
        body=request_.get("body"),
        query={"channel": "EMAIL"},
        resource=request_.get("resource"),
    )
    assert checked(event).status == status


def test_a_reused_key_is_a_documented_422(function_stack):
    # Given a key used for one address
    headers = {"Idempotency-Key": "contract-reused-key"}
    first = api_event(
        "POST", "/unsubscribe-all", body={"subscriberIdString": "a@example.com"}, headers=headers
    )
    checked(first)
    # When it comes again with another, then the 422 is documented
    second = api_event(
        "POST", "/unsubscribe-all", body={"subscriberIdString": "b@example.com"}, headers=headers
    )
    assert checked(second).status == 422
