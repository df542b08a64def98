"""The function's scenarios under HubSpot as documented, and under each behaviour only observed.

The sandbox answers as HubSpot's documents say unless a quirk is switched on; each scenario here
runs with none and with each quirk, through the real handler on moto, and checks the promise:
every opt-out ends unsubscribed (once, as its exact string), parked with its reason, or waiting
for a retry; never lost, never done twice.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.hubspot_sandbox import HubSpotSandbox
from local.hubspot_sandbox.quirks import Quirk
from optout.aws.idempotency_store import KEY_PREFIX, DynamoDBIdempotencyStore
from optout.triggers.message_body import parse_message_body
from tests.conftest import FunctionStack
from tests.integration.function_harness import api_event, dead_letters, invoke, settle, sqs_event

QUIRK_SETS = [pytest.param([], id="documented")] + [
    pytest.param([quirk.value], id=quirk.value) for quirk in Quirk
]
FACADE = "/communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all"
FACADE_BATCH = "/communication-preferences/{version}/statuses/batch/unsubscribe-all"
ROUNDS = 4  # a caller's tries


def opted_out(hubspot: HubSpotSandbox) -> set[tuple[str, int]]:
    """(subscriber as HubSpot keys it, business unit) of every opt-out HubSpot holds."""
    return {
        (entry["subscriberIdString"].lower(), entry["businessUnitId"]) for entry in hubspot.state()["optOuts"]
    }


def received_strings(hubspot: HubSpotSandbox) -> list[str]:
    strings: list[str] = []
    for call in hubspot.calls():
        if call.request.operation in {"unsubscribe-all", "batch-unsubscribe-all"}:
            strings += list(call.request.inputs or ()) or [call.request.subscriber or ""]
    return strings


@pytest.mark.parametrize("quirks", QUIRK_SETS)
def test_a_queue_batch_ends_every_opt_out_as_promised(function_stack: FunctionStack, hubspot_token, quirks):
    # Given HubSpot holding one opt-out from before, refusing one address, and showing the quirk
    hubspot = function_stack.hubspot
    hubspot.unsubscribe_through_api(hubspot_token, "before@example.com")
    hubspot.configure(invalid_subscribers="^refused@", quirks=quirks)
    bodies = [
        {"subscriberIdString": "straße@example.de", "idempotencyKey": "k-1"},
        {"subscriberIdString": "strasse@example.de", "idempotencyKey": "k-2"},
        {"subscriberIdString": "Jane@Example.com", "idempotencyKey": "k-3"},
        {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-4"},
        {"subscriberIdString": "brand@example.com", "businessUnitId": 7},
        {"subscriberIdString": "before@example.com"},
        {"subscriberIdString": "refused@example.com"},
    ]

    # When the function handles the batch and its redeliveries
    left = settle(sqs_event(function_stack, bodies))

    # Then nothing is left, the refused address is parked with HubSpot's reason, and HubSpot holds
    # every other opt-out, each applied once: straße and strasse as two people, Jane in any case as one
    assert left == set()
    letters = dead_letters(function_stack)
    assert [(json.loads(letter["body"])["subscriberIdString"], letter["reason"]) for letter in letters] == [
        ("refused@example.com", "HUBSPOT_REJECTED")
    ]
    assert opted_out(hubspot) >= {
        ("straße@example.de", 0),
        ("strasse@example.de", 0),
        ("jane@example.com", 0),
        ("brand@example.com", 7),
        ("before@example.com", 0),
    }
    applied = hubspot.successful_unsubscribes()
    assert {
        address: applied[address]
        for address in ("straße@example.de", "strasse@example.de", "jane@example.com", "brand@example.com")
    } == {
        "straße@example.de": 1,
        "strasse@example.de": 1,
        "jane@example.com": 1,
        "brand@example.com": 1,
    }
    assert {"straße@example.de", "strasse@example.de"} <= set(received_strings(hubspot))


@pytest.mark.parametrize("quirks", QUIRK_SETS)
def test_the_facade_answers_as_hubspot_does(function_stack: FunctionStack, quirks):
    # Given the quirk
    hubspot = function_stack.hubspot
    hubspot.configure(quirks=quirks)
    query = {"channel": "EMAIL", "verbose": "true"}

    # When a HubSpot client unsubscribes one address, reads its status, and unsubscribes a batch
    single = invoke_until_answered(
        api_event(
            "POST",
            "/communication-preferences/2026-03/statuses/one%40example.com/unsubscribe-all",
            query=query,
            resource=FACADE,
        )
    )
    status = invoke(
        api_event(
            "GET",
            "/communication-preferences/2026-03/statuses/one%40example.com/unsubscribe-all",
            query=query,
            resource=FACADE,
        )
    )
    batch = invoke_until_answered(
        api_event(
            "POST",
            "/communication-preferences/2026-03/statuses/batch/unsubscribe-all",
            query=query,
            body={"inputs": ["two@example.com", "three@example.com"]},
            resource=FACADE_BATCH,
        )
    )

    # Then each answer is HubSpot's 200 with every required field, and HubSpot holds each opt-out once
    for answer in (single, status, batch):
        assert answer["statusCode"] == 200
        body = json.loads(answer["body"])
        assert body["status"] == "COMPLETE"
        assert {"results", "startedAt", "completedAt"} <= set(body)
    assert "errors" not in json.loads(batch["body"])
    assert {entry["subscriberIdString"] for entry in json.loads(batch["body"])["results"]} == {
        "two@example.com",
        "three@example.com",
    }
    applied = hubspot.successful_unsubscribes()
    assert {
        address: applied.get(address)
        for address in ("one@example.com", "two@example.com", "three@example.com")
    } == {
        "one@example.com": 1,
        "two@example.com": 1,
        "three@example.com": 1,
    }


def invoke_until_answered(event: dict[str, Any]) -> Any:
    """A caller that retries what the API asks it to retry (429, 502, 503), a few times."""
    for _ in range(ROUNDS):
        answer = invoke(event)
        if answer["statusCode"] not in {429, 502, 503}:
            return answer
    return answer


@pytest.mark.parametrize("quirks", QUIRK_SETS)
@pytest.mark.parametrize("held_before", [True, False], ids=["held", "not-held"])
def test_a_key_taken_over_from_a_lost_attempt_writes_only_if_hubspot_lacks_the_opt_out(
    function_stack: FunctionStack, hubspot_token, quirks, held_before
):
    # Given a lost attempt for brand 7 left its key in progress, and HubSpot holds that brand's opt-out
    # or not (another brand's, with the other-brand-statuses quirk, must not count)
    hubspot = function_stack.hubspot
    body = {"subscriberIdString": "lost@example.com", "businessUnitId": 7, "idempotencyKey": "k-lost"}
    if held_before:
        hubspot.unsubscribe_through_api(hubspot_token, "lost@example.com", business_unit_id=7)
    leave_a_lost_attempt(function_stack, body)
    hubspot.configure(quirks=quirks)
    writes_before = hubspot.successful_unsubscribes().get("lost@example.com", 0)

    # When the message comes again
    left = settle(sqs_event(function_stack, [body]))

    # Then HubSpot holds the opt-out, written by this attempt only where it did not hold it already
    assert left == set()
    assert ("lost@example.com", 7) in opted_out(hubspot)
    written = hubspot.successful_unsubscribes().get("lost@example.com", 0) - writes_before
    assert written == (0 if held_before else 1)


def leave_a_lost_attempt(stack: FunctionStack, body: dict[str, Any]) -> None:
    request = parse_message_body(json.dumps(body))
    dynamodb = stack.session.client("dynamodb")
    store = DynamoDBIdempotencyStore(stack.resources.table_name, 3600, lambda: dynamodb)
    persistence = store._persistence_layer()
    persistence.configure(store.config, key_prefix=KEY_PREFIX)
    persistence.save_inprogress(
        data={"identity": f"key:{request.idempotency_key}", "fingerprint": request.fingerprint()},
        remaining_time_in_millis=1,
    )


@pytest.mark.parametrize("quirks", QUIRK_SETS)
def test_an_address_opted_out_before_is_a_success_through_the_api(
    function_stack: FunctionStack, hubspot_token, quirks
):
    # Given HubSpot holds the opt-out already
    hubspot = function_stack.hubspot
    hubspot.unsubscribe_through_api(hubspot_token, "again@example.com")
    hubspot.configure(quirks=quirks)

    # When a caller unsubscribes it again through the service's own route
    answer = invoke_until_answered(
        api_event(
            "POST", "/unsubscribe-all", body={"subscriberIdString": "again@example.com", "verbose": True}
        )
    )

    # Then it is a success, never a refusal (older APIs answered 400 "already unsubscribed")
    assert answer["statusCode"] == 200
    assert ("again@example.com", 0) in opted_out(hubspot)
