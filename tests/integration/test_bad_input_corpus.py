"""The bad-input corpus (tests/corpus/) through the real handler, on moto and the HubSpot sandbox.

SQS: hostile bodies ride in batches beside good ones; each must end as the corpus says (parked
with its reason, or succeeded with the exact address reaching HubSpot) in the one invocation,
without failing the batch or holding back the good records. API: every hostile request gets a
4xx in HubSpot's error shape (never a 5xx, never the token), before any HubSpot call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from local.aws.resources import QueueOverrides, TemplateReader
from tests.conftest import FunctionStack
from tests.corpus import DEAD_LETTER, REDRIVE, SUCCEED, ApiCase, SqsCase, api_cases, sqs_cases
from tests.integration.function_harness import (
    api_event,
    dead_letters,
    failed_ids,
    invoke,
    receive_event,
    send,
)

SQS_CASES = sqs_cases()
API_CASES = api_cases()
SQS_CHUNK = 20
API_CHUNK = 17
GOOD_NEIGHBOURS = 4
# SQS accepts these characters in a message body and no others.
SQS_BODY_CHARACTERS = (
    (0x9, 0x9),
    (0xA, 0xA),
    (0xD, 0xD),
    (0x20, 0xD7FF),
    (0xE000, 0xFFFD),
    (0x10000, 0x10FFFF),
)
# The largest body the source queue accepts, as the template sets it (the stack's moto queue too).
QUEUE_SIZE_LIMIT = int(TemplateReader.from_file().properties("UnsubscribeQueue")["MaximumMessageSize"])
# A DLQ smaller than the letter it is given stands for any refusal SQS may answer a park with.
REFUSING_DLQ_SIZE = 1024


@pytest.fixture
def queue_overrides() -> QueueOverrides:
    # A message that cannot be parked goes to the DLQ on its second receive, not its fifth.
    return QueueOverrides(max_receive_count=2)


def chunks(cases: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(cases[start : start + size]) for start in range(0, len(cases), size)]


def sqs_batches() -> list[Any]:
    return [
        pytest.param(batch, id=f"batch{number}")
        for number, batch in enumerate(chunks(SQS_CASES, SQS_CHUNK), start=1)
    ]


def good_bodies(tag: str) -> list[str]:
    return [json.dumps({"subscriberIdString": f"good-{tag}-{n}@example.com"}) for n in range(GOOD_NEIGHBOURS)]


def unsubscribed(stack: FunctionStack) -> set[str]:
    return set(stack.hubspot.successful_unsubscribes())


def subscribers_hubspot_received(stack: FunctionStack) -> set[str]:
    """Every subscriber string the sandbox decoded from a path or read from a batch body."""
    received: set[str] = set()
    for call in stack.hubspot.calls():
        if call.request.subscriber is not None:
            received.add(call.request.subscriber)
        received.update(call.request.inputs or ())
    return received


def make_dead_letter_queue_refuse_large_letters(stack: FunctionStack) -> None:
    stack.session.client("sqs").set_queue_attributes(
        QueueUrl=stack.resources.dead_letter_queue_url,
        Attributes={"MaximumMessageSize": str(REFUSING_DLQ_SIZE)},
    )


def sqs_outcome(message_id: str, retried: set[str], letters: dict[str, dict[str, str]]) -> str:
    if message_id in retried:
        return REDRIVE
    if message_id in letters:
        return DEAD_LETTER + letters[message_id].get("reason", "<no reason attribute>")
    return SUCCEED


# --- the corpus itself ----------------------------------------------------------------------------


def test_the_corpus_is_large_unique_and_deliverable() -> None:
    # Given the corpus files
    sqs_names, api_names = [case.name for case in SQS_CASES], [case.name for case in API_CASES]

    # When they are loaded, then there are 60+ cases, named uniquely per trigger, each succeeding
    # or parked with its reason (the DLQ is sized so that nothing reaches it without one)
    assert len(sqs_names) + len(api_names) >= 60
    assert len(set(sqs_names)) == len(sqs_names)
    assert len(set(api_names)) == len(api_names)
    outcomes = {outcome.split(":")[0] for case in SQS_CASES for outcome in case.outcomes}
    assert outcomes == {"succeed", "dead_letter"}
    assert {case.status // 100 for case in API_CASES} == {2, 4}

    # And every SQS body is one the queue would accept (only SQS's characters, within its size),
    # the largest of them among the cases
    for case in SQS_CASES:
        assert len(case.body.encode()) <= QUEUE_SIZE_LIMIT, case.name
        assert all(
            any(low <= ord(char) <= high for low, high in SQS_BODY_CHARACTERS) for char in case.body
        ), case.name
    assert max(len(case.body.encode()) for case in SQS_CASES) == QUEUE_SIZE_LIMIT


# --- SQS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", sqs_batches())
def test_hostile_messages_end_as_the_corpus_says_beside_good_ones(
    function_stack: FunctionStack, batch: list[SqsCase]
) -> None:
    # Given hostile messages sent between good ones, all received as one batch
    good = good_bodies(str(id(batch)))
    ids = send(function_stack, [good[0], good[1], *(case.body for case in batch), *good[2:]])
    good_ids = {ids[0], ids[1], *ids[-(GOOD_NEIGHBOURS - 2) :]}
    case_ids = ids[2 : 2 + len(batch)]
    event = receive_event(function_stack, len(ids))

    # When the function handles the batch once
    retried = failed_ids(invoke(event))

    # Then the good records succeeded in this very invocation
    assert not retried & good_ids
    good_addresses = {json.loads(body)["subscriberIdString"] for body in good}
    assert good_addresses <= unsubscribed(function_stack)

    # And each hostile message ended as the corpus says: parked with its reason, retried, or done
    letters = {letter["sourceMessageId"]: letter for letter in dead_letters(function_stack)}
    actual = {
        case.name: sqs_outcome(id_, retried, letters) for case, id_ in zip(batch, case_ids, strict=True)
    }
    wrong = {case.name: actual[case.name] for case in batch if actual[case.name] not in case.outcomes}
    assert wrong == {}

    # And a valid one reached HubSpot as exactly its address (no decoding, splitting or re-encoding)
    received = subscribers_hubspot_received(function_stack)
    for case in batch:
        if case.subscriber is not None:
            assert case.subscriber in received, case.name
            assert case.subscriber.lower() in unsubscribed(function_stack), case.name

    # And only the corpus's messages are on the DLQ, each with its original body
    assert set(letters) <= set(case_ids)
    for case, id_ in zip(batch, case_ids, strict=True):
        if id_ in letters:
            assert letters[id_]["body"] == case.body, case.name

    # And a message delivered again by its producer's infrastructure is not done again
    for case in batch:
        for _ in range(case.deliveries - 1):
            send(function_stack, [case.body])
            assert failed_ids(invoke(receive_event(function_stack, 1))) == set(), case.name
        if case.deliveries > 1 and case.subscriber is not None:
            calls = function_stack.hubspot.successful_unsubscribes()[case.subscriber.lower()]
            assert calls == 1, case.name


def test_a_message_the_dlq_refuses_to_park_reaches_it_through_redrive_without_attributes(
    function_stack: FunctionStack,
) -> None:
    # Given a malformed message the DLQ refuses to take: the function reports it for retry
    make_dead_letter_queue_refuse_large_letters(function_stack)
    refused = "x" * (2 * REFUSING_DLQ_SIZE)
    [message_id] = send(function_stack, [refused])
    sqs = function_stack.session.client("sqs")
    for _ in range(2):  # maxReceiveCount is 2 here (5 in the template)
        event = receive_event(function_stack, 1)
        assert failed_ids(invoke(event)) == {message_id}
        # Stands for the visibility timeout running out: the message is visible again at once.
        sqs.change_message_visibility(
            QueueUrl=function_stack.resources.queue_url,
            ReceiptHandle=event["Records"][0]["receiptHandle"],
            VisibilityTimeout=0,
        )

    # When SQS would deliver it a third time
    again = sqs.receive_message(QueueUrl=function_stack.resources.queue_url, WaitTimeSeconds=0)

    # Then the redrive policy moved it to the DLQ instead: the original body, without a reason
    assert again.get("Messages", []) == []
    [letter] = dead_letters(function_stack)
    assert letter["body"] == refused
    assert "reason" not in letter


def test_a_message_the_dlq_refuses_does_not_keep_its_neighbours_from_being_parked(
    function_stack: FunctionStack,
) -> None:
    # Given a message the DLQ refuses to take in the same batch as a malformed one it takes
    make_dead_letter_queue_refuse_large_letters(function_stack)
    ids = send(function_stack, ["x" * (2 * REFUSING_DLQ_SIZE), "{not json"])

    # When the batch is handled
    retried = failed_ids(invoke(receive_event(function_stack, 2)))

    # Then the small one is parked with its reason, and only the refused one is retried
    assert retried == {ids[0]}
    [letter] = dead_letters(function_stack)
    assert (letter["sourceMessageId"], letter["reason"]) == (ids[1], "MALFORMED_JSON")


# --- API ------------------------------------------------------------------------------------------


def api_case_event(case: ApiCase) -> dict[str, Any]:
    event = api_event(
        case.method,
        case.path,
        body=case.body,
        headers=case.headers,
        query=case.query,
        resource=case.resource,
    )
    event["isBase64Encoded"] = case.is_base64_encoded
    return event


def api_batches() -> Iterator[Any]:
    for number, batch in enumerate(chunks(API_CASES, API_CHUNK), start=1):
        yield pytest.param(batch, id=f"batch{number}")


@pytest.mark.parametrize("batch", list(api_batches()))
def test_hostile_requests_get_a_hubspot_shaped_4xx_and_never_reach_hubspot(
    function_stack: FunctionStack, hubspot_token: str, batch: list[ApiCase]
) -> None:
    wrong: dict[str, Any] = {}
    for case in batch:
        # Given a request from the corpus
        event = api_case_event(case)
        calls_before = len(function_stack.hubspot.calls())

        # When the function answers it
        response = invoke(event)

        # Then the status and category are the corpus's, and the token is nowhere in the answer
        body = json.loads(response["body"]) if response.get("body") else None
        category = body.get("category") if isinstance(body, dict) and body.get("status") == "error" else None
        if (response["statusCode"], category) != (case.status, case.category):
            wrong[case.name] = (response["statusCode"], category, body)
        assert hubspot_token not in json.dumps(response), case.name
        if case.status >= 400:
            # A HubSpot-style error body, and no HubSpot call was made for it
            assert isinstance(body, dict), case.name
            assert body["status"] == "error"
            assert isinstance(body["message"], str) and body["message"]
            assert body["correlationId"] == event["requestContext"]["requestId"]
            assert len(function_stack.hubspot.calls()) == calls_before, case.name
        elif case.subscriber is not None:
            assert case.subscriber in subscribers_hubspot_received(function_stack), case.name
    assert wrong == {}
