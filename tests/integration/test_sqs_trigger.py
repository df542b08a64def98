"""The handler's SQS path against moto (DynamoDB, SQS, Secrets Manager over HTTP) and the sandbox."""

from __future__ import annotations

import json
import threading
import time

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from local.aws.moto_endpoint import REGION
from local.hubspot_sandbox.auth import READ, WRITE
from local.runners.lambda_context import LocalLambdaContext
from local.runners.sqs_batch import sqs_event as event_of
from optout.aws.idempotency_store import KEY_PREFIX, DynamoDBIdempotencyStore
from optout.triggers.message_body import parse_message_body
from tests.events import load_event
from tests.integration.function_harness import (
    dead_letters,
    failed_ids,
    invoke,
    receive_event,
    send,
    sqs_event,
)


def unsubscribe_calls(stack):
    return [call for call in stack.hubspot.calls() if call.request.operation != "read-unsubscribe-all"]


def test_the_sample_batch_unsubscribes_everyone(function_stack):
    # Given the sample batch (plain, with a business unit, with a key, verbose) on the queue
    bodies = [record["body"] for record in load_event("sqs-batch")["Records"]]
    event = sqs_event(function_stack, bodies)

    # When the function handles it
    response = invoke(event)

    # Then nothing is retried and each subscriber was unsubscribed once
    assert response == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {
        "jane.doe@example.com": 1,
        "john.smith@example.com": 1,
        "alex.jones+newsletter@example.com": 1,
        "sam.lee@example.com": 1,
    }


@pytest.mark.parametrize("event_name", ["sqs-sns-wrapped", "sqs-eventbridge-wrapped"])
def test_wrapped_messages_are_unwrapped(function_stack, event_name):
    # Given a message from an SNS topic or an EventBridge rule
    bodies = [record["body"] for record in load_event(event_name)["Records"]]

    # When the function handles it, then its subscriber is unsubscribed
    assert invoke(sqs_event(function_stack, bodies)) == {"batchItemFailures": []}
    assert len(function_stack.hubspot.successful_unsubscribes()) == len(bodies)


def test_a_batch_of_one_group_costs_one_batch_call(function_stack):
    # Given ten subscribers for the same business unit
    event = sqs_event(function_stack, [{"subscriberIdString": f"user{n}@example.com"} for n in range(10)])

    # When the function handles them
    invoke(event)

    # Then HubSpot got one batch call carrying all ten
    [call] = unsubscribe_calls(function_stack)
    assert call.request.operation == "batch-unsubscribe-all"
    assert len(call.request.inputs or ()) == 10


def test_records_are_grouped_by_business_unit_and_every_call_asks_for_detail(function_stack):
    # Given records for two business units, one of them asking for verbose answers
    bodies = [
        {"subscriberIdString": "a@example.com"},
        {"subscriberIdString": "b@example.com"},
        {"subscriberIdString": "c@example.com", "businessUnitId": 7},
        {"subscriberIdString": "d@example.com", "businessUnitId": 7},
        {"subscriberIdString": "e@example.com", "verbose": True},
    ]

    # When the function handles them
    invoke(sqs_event(function_stack, bodies))

    # Then each business unit went in its own call (no unit means HubSpot's 0), every call asked
    # HubSpot for its detail, and the record asking for verbose answers shared its unit's call
    groups = {
        (
            call.request.business_unit_id,
            "verbose=true" in call.request.query,
            frozenset(call.request.inputs or ()),
        )
        for call in unsubscribe_calls(function_stack)
    }
    assert groups == {
        (0, True, frozenset({"a@example.com", "b@example.com", "e@example.com"})),
        (7, True, frozenset({"c@example.com", "d@example.com"})),
    }


def test_with_batch_mode_off_each_record_is_a_single_call(function_stack, monkeypatch):
    # Given batch mode off
    monkeypatch.setenv("HUBSPOT_BATCH_MODE", "off")
    event = sqs_event(function_stack, [{"subscriberIdString": f"user{n}@example.com"} for n in range(5)])

    # When five records are handled, then there are five single calls and no batch call
    assert invoke(event) == {"batchItemFailures": []}
    assert [call.request.operation for call in unsubscribe_calls(function_stack)] == ["unsubscribe-all"] * 5


def test_duplicates_of_one_subscriber_in_a_batch_cost_one_call(function_stack):
    # Given the same address three times, in other cases and under other keys
    bodies = [
        {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-1"},
        {"subscriberIdString": "JANE@example.com", "idempotencyKey": "k-2"},
        {"subscriberIdString": "jane@example.com"},
    ]

    # When they are handled together
    response = invoke(sqs_event(function_stack, bodies))

    # Then all three succeed on one unsubscribe
    assert response == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_a_key_reused_for_another_address_in_the_same_batch_is_dead_lettered(function_stack):
    # Given two messages with one idempotency key: a real duplicate and a different address
    bodies = [
        {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-1"},
        {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-1"},
        {"subscriberIdString": "john@example.com", "idempotencyKey": "k-1"},
    ]

    # When they are handled
    response = invoke(sqs_event(function_stack, bodies))

    # Then the duplicate shares the first's outcome, and the other address is parked with a reason
    assert response == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    [letter] = dead_letters(function_stack)
    assert letter["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert json.loads(letter["body"])["subscriberIdString"] == "john@example.com"


def test_a_redelivered_batch_is_replayed_without_calling_hubspot(function_stack):
    # Given a batch that was handled, but whose deletion did not happen (SQS delivers it again)
    event = sqs_event(function_stack, [{"subscriberIdString": f"user{n}@example.com"} for n in range(3)])
    invoke(event)
    calls_before = len(function_stack.hubspot.calls())

    # When the same messages are handled again
    response = invoke(event)

    # Then they succeed from the idempotency store, with no new HubSpot call
    assert response == {"batchItemFailures": []}
    assert len(function_stack.hubspot.calls()) == calls_before


def test_the_same_key_sent_twice_minutes_apart_is_done_once(function_stack):
    # Given a producer that sent the same request twice (another message id, the same key)
    body = {"subscriberIdString": "jane@example.com", "idempotencyKey": "order-42"}
    invoke(sqs_event(function_stack, [body]))

    # When the second copy arrives later
    response = invoke(sqs_event(function_stack, [body]))

    # Then it succeeds without a second unsubscribe
    assert response == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def sns_notification(message: dict[str, object], message_id: str) -> dict[str, object]:
    return {"Type": "Notification", "MessageId": message_id, "Message": json.dumps(message)}


def eventbridge_event(detail: dict[str, object], event_id: str) -> dict[str, object]:
    return {"version": "0", "id": event_id, "detail-type": "OptOut", "source": "crm", "detail": detail}


def test_a_notification_sns_delivers_twice_without_a_key_is_done_once(function_stack):
    # Given an SNS notification without an idempotencyKey, delivered to the queue twice by SNS
    # (two SQS messages, two message ids, one notification id)
    notification = sns_notification(
        {"subscriberIdString": "jane@example.com"}, "95df01b4-ee98-5cb9-9903-4c221d41eb5e"
    )
    first = invoke(sqs_event(function_stack, [notification]))

    # When the second delivery arrives
    second = invoke(sqs_event(function_stack, [notification]))

    # Then HubSpot unsubscribed once, and the second was answered from the idempotency store
    assert first == second == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    assert len(unsubscribe_calls(function_stack)) == 1


def test_an_event_a_rule_retried_through_a_topic_is_done_once(function_stack):
    # Given one EventBridge event reaching the queue through a topic twice: EventBridge retried
    # its delivery, so SNS made two notifications of it, with two notification ids
    event = eventbridge_event(
        {"subscriberIdString": "jane@example.com"}, "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    )
    copies = [
        sns_notification(event, "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"),
        sns_notification(event, "1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f"),
    ]

    # When both are handled, in one batch and again in another
    assert invoke(sqs_event(function_stack, copies)) == {"batchItemFailures": []}
    assert invoke(sqs_event(function_stack, copies[:1])) == {"batchItemFailures": []}

    # Then the event's id made them one request: one HubSpot call
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    assert len(unsubscribe_calls(function_stack)) == 1


def test_with_no_time_left_for_work_no_message_is_read_and_all_are_retried(function_stack):
    # Given an invocation that starts with less time than it keeps back to answer
    ids = send(function_stack, ["{not json", {"subscriberIdString": "a@example.com"}])
    context = LocalLambdaContext(timeout_s=2.0)

    # When the batch is handled
    response = invoke(receive_event(function_stack, 2), context)

    # Then nothing was read, parked or sent: every message is left for a retry, in time
    assert failed_ids(response) == set(ids)
    assert dead_letters(function_stack) == []
    assert function_stack.hubspot.calls() == []
    assert context.get_remaining_time_in_millis() > 0


def test_concurrent_duplicates_make_one_hubspot_call(function_stack):
    # Given two invocations running at once with the same key (a producer retried quickly)
    body = {"subscriberIdString": "jane@example.com", "idempotencyKey": "same"}
    function_stack.hubspot.configure(latency_ms=300)
    events = [sqs_event(function_stack, [body]), sqs_event(function_stack, [body])]
    responses: list[dict[str, object]] = []
    threads = [threading.Thread(target=lambda e=event: responses.append(invoke(e))) for event in events]

    # When both run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then HubSpot was called once; the loser either replayed the result or is retried later
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    retried = [response for response in responses if response["batchItemFailures"]]
    assert len(retried) <= 1
    if retried:
        again = receive_event(function_stack, 1)
        assert invoke(again) == {"batchItemFailures": []}
        assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_invalid_messages_are_parked_with_reasons_and_do_not_hold_back_the_rest(function_stack):
    # Given good messages mixed with broken ones
    bodies = [
        "{not json",
        {"subscriberIdString": "not-an-email"},
        {"subscriberIdString": "good@example.com"},
        {"subscriberIdString": "x@example.com", "channel": "SMS"},
        {"subscriberIdString": "also-good@example.com"},
    ]
    ids = send(function_stack, bodies)
    event = receive_event(function_stack, len(ids))

    # When they are handled
    response = invoke(event)

    # Then the good ones are done, the broken ones parked with their reasons, and none retried
    assert response == {"batchItemFailures": []}
    assert set(function_stack.hubspot.successful_unsubscribes()) == {
        "good@example.com",
        "also-good@example.com",
    }
    letters = {letter["sourceMessageId"]: letter for letter in dead_letters(function_stack)}
    assert {letters[ids[0]]["reason"], letters[ids[1]]["reason"], letters[ids[3]]["reason"]} == {
        "MALFORMED_JSON",
        "INVALID_EMAIL",
        "UNSUPPORTED_CHANNEL",
    }
    assert letters[ids[0]]["body"] == "{not json"
    assert letters[ids[1]]["category"] == "validation"
    assert set(letters[ids[0]]) >= {
        "reason",
        "category",
        "detail",
        "sourceQueueArn",
        "receiveCount",
        "failedAt",
    }


def test_an_address_hubspot_rejects_is_isolated_from_its_batch(function_stack):
    # Given a HubSpot that rejects a whole batch for one address it refuses
    function_stack.hubspot.configure(invalid_subscribers="^refused@")
    bodies = [
        {"subscriberIdString": address}
        for address in ("a@example.com", "refused@example.com", "b@example.com")
    ]
    ids = send(function_stack, bodies)

    # When they are handled
    response = invoke(receive_event(function_stack, 3))

    # Then the others succeed and the refused one is parked as rejected by HubSpot
    assert response == {"batchItemFailures": []}
    assert set(function_stack.hubspot.successful_unsubscribes()) == {"a@example.com", "b@example.com"}
    [letter] = dead_letters(function_stack)
    assert (letter["sourceMessageId"], letter["reason"], letter["category"]) == (
        ids[1],
        "HUBSPOT_REJECTED",
        "hubspot",
    )


def test_without_the_batch_scope_the_container_switches_to_single_calls(function_stack, hubspot_token):
    # Given a token that may not use the batch endpoint
    function_stack.hubspot.set_tokens({hubspot_token: {READ, WRITE}})
    first = sqs_event(function_stack, [{"subscriberIdString": f"first{n}@example.com"} for n in range(3)])

    # When two batches are handled by the same container
    assert invoke(first) == {"batchItemFailures": []}
    second = sqs_event(function_stack, [{"subscriberIdString": f"second{n}@example.com"} for n in range(3)])
    assert invoke(second) == {"batchItemFailures": []}

    # Then the first batch call got 403 once, and everything after went as single calls
    operations = [(call.request.operation, call.status) for call in unsubscribe_calls(function_stack)]
    assert operations[0] == ("batch-unsubscribe-all", 403)
    assert operations[1:] == [("unsubscribe-all", 200)] * 6


def test_transient_failures_are_retried_and_not_cached(function_stack):
    # Given a HubSpot that answers 503 to everything
    function_stack.hubspot.configure(fault_rates={"503": 1.0})
    ids = send(function_stack, [{"subscriberIdString": "jane@example.com", "idempotencyKey": "k"}])
    event = receive_event(function_stack, 1)

    # When the message is handled, then it is reported for retry and nothing is parked
    assert failed_ids(invoke(event)) == set(ids)
    assert dead_letters(function_stack) == []

    # And when HubSpot recovers, the same message succeeds (the error was not stored)
    function_stack.hubspot.configure(fault_rates={})
    assert invoke(event) == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def test_a_rate_limited_message_comes_back_after_retry_after(function_stack):
    # Given HubSpot's rolling window is full for the next 20 seconds (another app used it)
    function_stack.hubspot.configure(fault_retry_after_s=20)
    function_stack.hubspot.script_faults(["429"] * 5)
    ids = send(function_stack, [{"subscriberIdString": "jane@example.com"}])

    # When the message is handled
    response = invoke(receive_event(function_stack, 1))

    # Then it is retried later, hidden for about the wait HubSpot asked for rather than 180 s
    assert failed_ids(response) == set(ids)
    sqs = function_stack.session.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=function_stack.resources.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert (
        sqs.receive_message(QueueUrl=function_stack.resources.queue_url, WaitTimeSeconds=0).get("Messages")
        is None
    )


def test_a_rotated_token_is_picked_up_from_the_secret(function_stack, hubspot_token):
    # Given a container that has read the token already
    assert invoke(sqs_event(function_stack, [{"subscriberIdString": "a@example.com"}])) == {
        "batchItemFailures": []
    }

    # When the token is rotated: a new one in the secret, the old one revoked at HubSpot
    secrets = function_stack.session.client("secretsmanager")
    secrets.put_secret_value(SecretId=function_stack.resources.secret_id, SecretString="rotated-token")
    function_stack.hubspot.add_token("rotated-token", {READ, WRITE})
    function_stack.hubspot.revoke_token(hubspot_token)
    response = invoke(sqs_event(function_stack, [{"subscriberIdString": "b@example.com"}]))

    # Then the 401 made it re-read the secret, and the call succeeded with the new token
    assert response == {"batchItemFailures": []}
    assert [call.status for call in unsubscribe_calls(function_stack)][-2:] == [401, 200]


def test_an_unreadable_token_leaves_messages_for_retry(function_stack):
    # Given the secret is gone
    secrets = function_stack.session.client("secretsmanager")
    secrets.delete_secret(SecretId=function_stack.resources.secret_id, ForceDeleteWithoutRecovery=True)
    ids = send(
        function_stack, [{"subscriberIdString": "a@example.com"}, {"subscriberIdString": "b@example.com"}]
    )

    # When messages are handled, then every one is retried, none parked, HubSpot never called
    assert failed_ids(invoke(receive_event(function_stack, 2))) == set(ids)
    assert dead_letters(function_stack) == []
    assert function_stack.hubspot.calls() == []


def test_an_unreachable_idempotency_store_leaves_messages_for_retry(function_stack):
    # Given the idempotency table cannot be written
    function_stack.session.client("dynamodb").delete_table(TableName=function_stack.resources.table_name)
    ids = send(function_stack, [{"subscriberIdString": "a@example.com"}])

    # When the message is handled, then it is retried and HubSpot was not called
    assert failed_ids(invoke(receive_event(function_stack, 1))) == set(ids)
    assert function_stack.hubspot.calls() == []


def test_a_message_that_cannot_be_parked_is_retried_instead_of_lost(function_stack):
    # Given the dead-letter queue is gone
    sqs = function_stack.session.client("sqs")
    sqs.delete_queue(QueueUrl=function_stack.resources.dead_letter_queue_url)
    ids = send(function_stack, ["{not json", {"subscriberIdString": "good@example.com"}])

    # When the batch is handled, then the bad message is retried and the good one done
    assert failed_ids(invoke(receive_event(function_stack, 2))) == {ids[0]}
    assert set(function_stack.hubspot.successful_unsubscribes()) == {"good@example.com"}


def test_a_slow_hubspot_makes_records_retryable_before_the_function_times_out(function_stack):
    # Given a HubSpot slower than the invocation has time for
    function_stack.hubspot.configure(latency_ms=3000)
    ids = send(function_stack, [{"subscriberIdString": "a@example.com"}])
    context = LocalLambdaContext(timeout_s=4.5)

    # When the message is handled
    response = invoke(receive_event(function_stack, 1), context)

    # Then the handler answered in time, with the record left for retry
    assert failed_ids(response) == set(ids)
    assert context.get_remaining_time_in_millis() > 0


def test_logs_mask_addresses_and_never_show_the_token(function_stack, hubspot_token, function_logs):
    # Given messages of every fate
    function_stack.hubspot.configure(invalid_subscribers="^refused@")
    event = sqs_event(
        function_stack,
        [
            {"subscriberIdString": "jane.doe@example.com"},
            {"subscriberIdString": "refused@example.com"},
            {"subscriberIdString": "bad address@example.com"},
        ],
    )

    # When they are handled
    invoke(event)

    # Then the logs name them only masked, and the token nowhere
    output = function_logs.getvalue()
    assert '"subscriber":"j***@example.com"' in output
    for secret in ("jane.doe@example.com", "refused@example.com", "bad address@example.com", hubspot_token):
        assert secret not in output


def test_metrics_count_each_outcome(function_stack, capfd):
    # Given one new, one already unsubscribed and one invalid message
    invoke(sqs_event(function_stack, [{"subscriberIdString": "old@example.com", "verbose": True}]))
    capfd.readouterr()
    event = sqs_event(
        function_stack,
        [
            {"subscriberIdString": "new@example.com", "verbose": True},
            {"subscriberIdString": "old@example.com", "verbose": True},
            "{broken",
        ],
    )

    # When they are handled
    invoke(event)

    # Then the EMF metrics count each outcome and the HubSpot call
    [blob] = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    assert blob["Unsubscribed"] == [1.0]
    assert blob["AlreadyUnsubscribed"] == [1.0]
    assert blob["PermanentFailures"] == [1.0]
    assert sum(blob["HubSpotCalls"]) == 1
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HubSpotUnsubscribeAll"


def test_a_duplicate_held_up_by_another_invocation_returns_after_the_function_timeout(function_stack):
    # Given an invocation working on a key while HubSpot takes two seconds to answer
    function_stack.hubspot.configure(latency_ms=2000)
    body = {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-held"}
    send(function_stack, [body])
    first = threading.Thread(target=invoke, args=(receive_event(function_stack, 1),))
    first.start()
    table = function_stack.session.client("dynamodb")
    while not table.scan(TableName=function_stack.resources.table_name)["Items"]:
        assert first.is_alive(), "the first invocation ended before it recorded its key"
        time.sleep(0.02)

    # When a duplicate is handled meanwhile by an invocation of a function with a 6 s timeout (3 s
    # for the work, of which the last 2.5 s are too short to start a call to the store)
    [duplicate_id] = send(function_stack, [body])
    response = invoke(receive_event(function_stack, 1), LocalLambdaContext(timeout_s=6))
    first.join()

    # Then it is retried, hidden for about that timeout rather than the queue's 180 s,
    # and on its return it is answered from the store without another HubSpot call
    assert failed_ids(response) == {duplicate_id}
    sqs = function_stack.session.client("sqs")
    queue_url = function_stack.resources.queue_url
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages") is None
    returned = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=15, AttributeNames=["All"])
    messages = returned.get("Messages", [])
    assert [message["MessageId"] for message in messages] == [duplicate_id]
    assert invoke(event_of(messages, function_stack.resources.queue_arn, REGION)) == {"batchItemFailures": []}
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}


def leave_a_lost_attempt(stack, body):
    """The in-progress record of an attempt that ended without recording how (a timeout, a store outage)."""
    request = parse_message_body(json.dumps(body))
    store = DynamoDBIdempotencyStore(
        stack.resources.table_name, 3600, lambda: stack.session.client("dynamodb")
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=stack.resources.table_name, boto3_client=stack.session.client("dynamodb")
    )
    persistence.configure(store.config, key_prefix=KEY_PREFIX)
    persistence.save_inprogress(
        data={"identity": f"key:{request.idempotency_key}", "fingerprint": request.fingerprint()},
        remaining_time_in_millis=1,
    )


def test_a_key_taken_over_from_a_lost_attempt_that_reached_hubspot_is_not_unsubscribed_twice(function_stack):
    # Given HubSpot holds the opt-out an attempt made before it was lost, leaving its key in progress
    body = {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-lost"}
    invoke(sqs_event(function_stack, [{"subscriberIdString": "jane@example.com"}]))
    leave_a_lost_attempt(function_stack, body)

    # When the message is delivered again, after the lost attempt's in-progress time
    response = invoke(sqs_event(function_stack, [body]))

    # Then HubSpot's status is read instead of unsubscribing again, and the key is recorded done
    assert response == {"batchItemFailures": []}
    assert [call.request.operation for call in function_stack.hubspot.calls()] == [
        "unsubscribe-all",
        "read-unsubscribe-all",
    ]
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
    invoke(sqs_event(function_stack, [body]))
    assert len(function_stack.hubspot.calls()) == 2


def test_a_key_taken_over_from_a_lost_attempt_that_never_reached_hubspot_is_unsubscribed(function_stack):
    # Given a lost attempt that left its key in progress before HubSpot heard of it
    body = {"subscriberIdString": "jane@example.com", "idempotencyKey": "k-lost"}
    leave_a_lost_attempt(function_stack, body)

    # When the message is delivered again
    response = invoke(sqs_event(function_stack, [body]))

    # Then HubSpot's status shows no opt-out, so the address is unsubscribed
    assert response == {"batchItemFailures": []}
    assert [call.request.operation for call in function_stack.hubspot.calls()] == [
        "read-unsubscribe-all",
        "unsubscribe-all",
    ]
    assert function_stack.hubspot.successful_unsubscribes() == {"jane@example.com": 1}
