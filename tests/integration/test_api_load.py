"""The API under load, scaled down: 50 clients, 500 requests, HubSpot faults on (`make soak` runs 5,000)."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from local.soak.api_load import CLIENTS, MAPPED_5XX, Answer, LoadRun, judge, run_api_load
from local.soak.api_plan import RequestKind, plan_requests
from tests.conftest import FunctionStack
from tests.integration.function_harness import api_event, invoke

REQUESTS = 500


@pytest.mark.slow
def test_under_load_and_faults_the_api_answers_as_documented_and_replays_every_duplicate() -> None:
    # Given 50 clients sending 500 requests (good, exact duplicates, bad) while HubSpot fails at
    # the soak's rates; When they have all been answered (retrying 409/429/502/503 as told)
    run = run_api_load(REQUESTS, seed=11)

    # Then the load was real: every request answered, the duplicates met their originals in flight
    statuses = Counter(answer.status for answers in run.answers.values() for answer in answers)
    assert len(run.answers) == REQUESTS
    assert statuses[200] > 0 and statuses[400] > 0
    assert sum(answer.replayed for answers in run.answers.values() for answer in answers) > 0

    # And no promise was broken: no 5xx but 502/503, every bad request a 400, every duplicate a
    # replay, every address unsubscribed once, no token in any answer
    assert {status for status in statuses if status >= 500} <= MAPPED_5XX
    assert run.problems == []
    assert f"from {CLIENTS} clients" in run.final_line()
    assert "p50" in run.final_line() and "p99" in run.final_line()


def answer(status: int, *, replayed: bool = False, category: str | None = None, body: str = "{}") -> Answer:
    return Answer(status, 0.01, replayed, category, body, 0.0)


def test_the_load_verdict_catches_each_broken_promise() -> None:
    # Given answers where a 500 came back, a bad request succeeded, a duplicate was done afresh,
    # an address was unsubscribed twice, the token was echoed and a full address was logged
    planned = plan_requests(20, "t", seed=2)
    run = LoadRun(len(planned), planned=planned)
    for number, request in enumerate(planned):
        run.answers[number] = [
            answer(400, category="VALIDATION_ERROR") if request.kind is RequestKind.BAD else answer(200)
        ]
    bad = next(n for n, request in enumerate(planned) if request.kind is RequestKind.BAD)
    run.answers[bad] = [answer(200, body=json.dumps({"echo": "pat-secret-token"}))]
    run.answers[0].insert(0, answer(500, category="INTERNAL_ERROR"))

    # When it is judged
    calls = {"api-0.t@example.com": ["12:00:01", "12:00:11"], "api-2.t@example.com": ["12:00:02"]}
    judge(run, calls, "pat-secret-token", {"function logs": "jane@example.com"})

    # Then each is a problem of its own
    assert [problem.split(":")[0] for problem in run.problems] == [
        "1 unexpected 5xx answers",
        "1 bad requests not refused with a 400",
        f"{sum(r.kind is RequestKind.DUPLICATE for r in planned)} idempotency keys not answered fresh "
        "exactly once (the rest replayed)",
        "1 addresses unsubscribed more than once",
        "2 leaks",
    ]


def test_a_hubspot_answer_slower_than_the_read_timeout_is_not_carried_out_twice(
    function_stack: FunctionStack,
) -> None:
    # Given a HubSpot that answers the next call after 10.5 s (the client's read timeout is 10 s)
    function_stack.hubspot.configure(slow_delay_s=10.5)
    function_stack.hubspot.script_faults(["slow"])

    # When an address is unsubscribed through the API, and the slow call has ended too
    answer = invoke(api_event("POST", "/unsubscribe-all", body={"subscriberIdString": "jane@example.com"}))
    deadline = time.monotonic() + 5
    while not any(call.fault == "slow" for call in function_stack.hubspot.calls()):
        assert time.monotonic() < deadline, "the slow call never ended"
        time.sleep(0.05)

    # Then the request succeeded, with one unsubscribe at HubSpot: the client gave the unanswered
    # call time to finish, read HubSpot's status, and found the opt-out there
    assert answer["statusCode"] == 200
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    operations = [call.request.operation for call in function_stack.hubspot.calls()]
    assert operations.count("unsubscribe-all") == 1
