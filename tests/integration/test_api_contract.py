"""The function's API answers are what openapi.yaml says: status, headers and body.

Every answer the suite sees is checked (tests/integration/function_harness.py's `invoke`, and the
local API Gateway the suite starts); here one answer of each kind the function gives on its own
(a replay, bad input, an unknown version, a reused key), and the check itself, on answers that
break the contract in each way it can be broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from local.runners.api_contract import AnswerContract, ApiAnswer, proxy_answer
from tests.events import load_event
from tests.integration.function_harness import OffContractAnswerError, api_event, assert_documented, invoke

FACADE = "/communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all"
FACADE_BATCH = "/communication-preferences/{version}/statuses/batch/unsubscribe-all"
NOW = "2026-12-06T10:00:00.000Z"


def checked(event: Mapping[str, Any]) -> ApiAnswer:
    # invoke() raises on an answer off the contract; the check here makes that explicit.
    answer = proxy_answer(event, invoke(event))
    assert AnswerContract.load().problems(answer) == []
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


def status(subscription_id: int) -> dict[str, Any]:
    return {
        "subscriberIdString": "jane@example.com",
        "subscriptionId": subscription_id,
        "status": "UNSUBSCRIBED",
        "source": "Public API",
        "channel": "EMAIL",
        "timestamp": NOW,
    }


def envelope(**changes: Any) -> dict[str, Any]:
    return {"status": "COMPLETE", "results": [], "startedAt": NOW, "completedAt": NOW, **changes}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        pytest.param(ApiAnswer("POST", FACADE_BATCH, 207, {}, envelope(), "v4"), "documents no 207",
                     id="HubSpot's batch call answers 200, never 207"),
        pytest.param(ApiAnswer("POST", FACADE_BATCH, 200, {}, {"status": "COMPLETE", "results": []}, "v4"),
                     "'startedAt' is a required property", id="a required field missing"),
        pytest.param(ApiAnswer("POST", FACADE, 200, {}, envelope(status="SUCCESS"), "v4"),
                     "'SUCCESS' is not one of", id="a status outside HubSpot's enum"),
        pytest.param(ApiAnswer("POST", FACADE, 200, {}, envelope(completedAt="today"), "v4"),
                     "'today' is not a 'date-time'", id="a time that is not RFC 3339"),
        pytest.param(ApiAnswer("POST", FACADE, 200, {}, envelope(results=[status(2**31)]), "2026-09"),
                     "is not a 'int32'", id="2026-09 declares subscriptionId int32"),
        pytest.param(ApiAnswer("POST", "/unsubscribe-all", 200, {"Idempotent-Replayed": "yes"}, envelope()),
                     "header Idempotent-Replayed", id="a declared header's value"),
        pytest.param(ApiAnswer("POST", "/unsubscribe-all", 400, {}, {"message": "no"}),
                     "'correlationId' is a required property", id="an error without HubSpot's error shape"),
        pytest.param(ApiAnswer("DELETE", "/unsubscribe-all", 200, {}, envelope()),
                     "openapi.yaml has no DELETE", id="an undocumented operation"),
    ],
)  # fmt: skip
def test_the_check_names_each_way_an_answer_departs_from_the_contract(answer, problem):
    # Given an answer that breaks the contract in one way
    # When it is checked
    problems = AnswerContract.load().problems(answer)
    # Then that way is named
    assert any(problem in text for text in problems), problems


def test_the_2026_09_int32_is_only_applied_to_that_version():
    # Given a subscription id above int32 (HubSpot's v4 and 2026-03 documents declare int64)
    body = envelope(results=[status(2**31)])
    # When it is checked on each version's path
    # Then only 2026-09 refuses it
    assert AnswerContract.load().problems(ApiAnswer("POST", FACADE, 200, {}, body, "v4")) == []
    assert AnswerContract.load().problems(ApiAnswer("POST", FACADE, 200, {}, body, "2026-03")) == []
    assert AnswerContract.load().problems(ApiAnswer("POST", FACADE, 200, {}, body, "2026-09"))


def test_the_harness_fails_a_test_on_an_answer_off_the_contract():
    # Given a facade batch event and an answer HubSpot's contract does not allow
    event = load_event("api-facade-batch-unsubscribe-all")
    response = {"statusCode": 207, "headers": {"Content-Type": "application/json"}, "body": "{}"}
    # When the harness checks it, Then it raises, naming the route and the problem
    with pytest.raises(OffContractAnswerError, match="documents no 207"):
        assert_documented(event, response)


@pytest.mark.parametrize("version", ["v4", "2026-03", "2026-09"])
@pytest.mark.parametrize("verbose", ["true", "false"])
def test_the_facade_answers_with_each_versions_schemas(function_stack, version, verbose):
    # Given a facade request on each published version, verbose or terse
    query = {"channel": "EMAIL", "verbose": verbose}
    single = api_event(
        "POST",
        f"/communication-preferences/{version}/statuses/a%40example.com/unsubscribe-all",
        query=query,
        resource=FACADE,
    )
    batch = api_event(
        "POST",
        f"/communication-preferences/{version}/statuses/batch/unsubscribe-all",
        body={"inputs": ["b@example.com", "not an address"]},
        query=query,
        resource=FACADE_BATCH,
    )
    read = {**single, "httpMethod": "GET"}
    # When each is answered, Then each answer is that version's documented 200
    for event in (single, batch, read):
        answer = checked(event)
        assert answer.status == 200
        assert (answer.body["results"] == []) is (verbose == "false")
    assert checked(batch).body["numErrors"] == 1
