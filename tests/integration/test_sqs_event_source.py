"""The SQS event source runner against moto and the sandbox: Lambda's SQS trigger semantics."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from local.aws.moto_endpoint import REGION
from local.aws.resources import QueueOverrides
from local.runners.function_definition import FunctionDefinition, SqsTrigger
from local.runners.lambda_invoker import LambdaInvoker, load_handler
from local.runners.sqs_batch import failed_message_ids
from local.runners.sqs_event_source import CLIENT_CONFIG, QueueRef, SqsEventSource
from tests.conftest import FunctionStack
from tests.events import load_event

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

SETTLE_TIMEOUT_S = 20.0


@pytest.fixture
def queue_overrides() -> QueueOverrides:
    # Failed messages come back after a second; enough receives that a slow retry is not dead-lettered.
    return QueueOverrides(visibility_timeout_s=1, max_receive_count=5)


class RecordingHandler:
    """Stands in for the function where a test looks at the events themselves."""

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self._answer = answer
        self._error = error

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if self._error is not None:
            raise self._error
        return self._answer(event) if callable(self._answer) else self._answer


def one_poller(definition: FunctionDefinition) -> SqsTrigger:
    """The template's trigger with one poller and no batching window: one predictable batch."""
    return replace(definition.sqs_trigger, max_concurrency=1, batching_window_s=0)


@contextmanager
def event_source(
    stack: FunctionStack, invoker: LambdaInvoker, trigger: SqsTrigger, **options: Any
) -> Iterator[SqsEventSource]:
    queue = QueueRef(stack.resources.queue_url, stack.resources.queue_arn, REGION)
    polling = stack.session.client("sqs", config=CLIENT_CONFIG)
    with SqsEventSource(polling, queue, invoker, trigger, **options) as source:
        yield source


def send(
    stack: FunctionStack, bodies: list[str], attributes: dict[str, MessageAttributeValueTypeDef] | None = None
) -> list[str]:
    sqs = stack.session.client("sqs")
    response = sqs.send_message_batch(
        QueueUrl=stack.resources.queue_url,
        Entries=[
            {"Id": str(index), "MessageBody": body, "MessageAttributes": attributes or {}}
            for index, body in enumerate(bodies)
        ],
    )
    by_entry = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
    return [by_entry[str(index)] for index in range(len(bodies))]


def request(address: str, **fields: Any) -> str:
    return json.dumps({"subscriberIdString": address, **fields})


def test_a_batch_reaches_the_function_shaped_as_lambda_sends_it(function_stack, function_definition):
    # Given a message with a string and a binary attribute, and a function that records its events
    handler = RecordingHandler(answer={"batchItemFailures": []})
    invoker = LambdaInvoker(function_definition, load=lambda: handler)
    body = request("shape@example.com")
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        "origin": {"DataType": "String", "StringValue": "crm"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    [message_id] = send(function_stack, [body], attributes)

    # When the event source delivers it
    with event_source(function_stack, invoker, one_poller(function_definition)) as source:
        assert source.wait_until_drained(SETTLE_TIMEOUT_S)

    # Then the record has the keys and formats of a real SQS event record
    [event] = handler.events
    [record] = event["Records"]
    sample = load_event("sqs-batch")["Records"][0]
    assert set(record) - {"md5OfMessageAttributes"} == set(sample)
    assert set(record["attributes"]) >= set(sample["attributes"])
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageId"] == message_id
    assert record["body"] == body
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324 - SQS's checksum
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == function_stack.resources.queue_arn
    assert record["awsRegion"] == REGION
    assert record["messageAttributes"] == {
        "origin": {
            "stringValue": "crm",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    # And the message, reported as no failure, was deleted
    assert source.deleted_message_ids() == {message_id}


def test_a_partial_failure_deletes_only_the_messages_that_succeeded(
    function_stack, function_definition, lambda_invoker
):
    # Given three messages in one batch: two go in one HubSpot batch call, the third (unit 7) alone,
    # and HubSpot answers that single call with 503 until the client gives up (4 attempts)
    ok_1, ok_2, failing = "ok.1@example.com", "ok.2@example.com", "flaky@example.com"
    ids = send(function_stack, [request(ok_1), request(ok_2), request(failing, businessUnitId=7)])
    function_stack.hubspot.script_faults([None, "503", "503", "503", "503"])

    # When the event source runs until the queue is empty
    with event_source(function_stack, lambda_invoker, one_poller(function_definition)) as source:
        assert source.wait_until_drained(SETTLE_TIMEOUT_S)

    # Then the two successes were deleted at once; the failure stayed, came back, and succeeded
    assert source.receive_counts() == {ids[0]: 1, ids[1]: 1, ids[2]: 2}
    stats = source.stats()
    assert (stats.invocations, stats.messages_deleted, stats.messages_failed) == (2, 3, 1)
    assert function_stack.hubspot.successful_unsubscribes() == {ok_1: 1, ok_2: 1, failing: 1}


@pytest.mark.parametrize("queue_overrides", [QueueOverrides(visibility_timeout_s=1, max_receive_count=2)])
def test_a_message_that_keeps_failing_is_moved_to_the_dead_letter_queue_by_the_redrive(
    function_stack, function_definition, lambda_invoker
):
    # Given HubSpot failing every call with 503, and a queue that dead-letters after 2 receives
    function_stack.hubspot.configure(fault_rates={"503": 1.0})
    [message_id] = send(function_stack, [request("down@example.com")])

    # When the event source runs until the queue is empty
    with event_source(function_stack, lambda_invoker, one_poller(function_definition)) as source:
        assert source.wait_until_drained(SETTLE_TIMEOUT_S)

    # Then the message was tried maxReceiveCount times, never deleted, and is now on the DLQ, unchanged
    assert source.receive_counts() == {message_id: 2}
    assert source.stats().messages_deleted == 0
    # (moto takes it off the queue a moment before it puts it on the DLQ: wait for it there)
    dead = function_stack.session.client("sqs").receive_message(
        QueueUrl=function_stack.resources.dead_letter_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5
    )["Messages"]
    assert [(letter["MessageId"], letter["Body"]) for letter in dead] == [
        (message_id, request("down@example.com"))
    ]


def test_an_invocation_that_overruns_its_timeout_deletes_nothing(
    function_stack, function_definition, lambda_invoker
):
    # Given a slow HubSpot and a first invocation cut off long before HubSpot answers
    function_stack.hubspot.configure(latency_ms=300)
    address = "slow@example.com"
    [message_id] = send(function_stack, [request(address)])

    # When the event source runs until the queue is empty
    with event_source(
        function_stack,
        lambda_invoker,
        one_poller(function_definition),
        timeout_override=lambda number: 0.05 if number == 1 else None,
    ) as source:
        assert source.wait_until_drained(SETTLE_TIMEOUT_S)

    # Then the cut-off invocation deleted nothing: the message came back and a later one settled it
    stats = source.stats()
    assert stats.timeouts == 1
    assert source.receive_counts()[message_id] >= 2
    assert source.deleted_message_ids() == {message_id}
    # And the cut-off invocation's work (it ran on, as the thread cannot be killed) was not repeated
    lambda_invoker.close()
    assert function_stack.hubspot.successful_unsubscribes() == {address: 1}


@pytest.mark.parametrize("queue_overrides", [QueueOverrides()])  # the template's visibility timeout
def test_several_pollers_invoke_concurrently_up_to_the_maximum_concurrency(
    function_stack, function_definition, lambda_invoker
):
    # Given small batches, three pollers, and a HubSpot slow enough for invocations to overlap
    trigger = replace(function_definition.sqs_trigger, batch_size=2, batching_window_s=0, max_concurrency=3)
    function_stack.hubspot.configure(latency_ms=300)
    addresses = [f"many.{number}@example.com" for number in range(12)]
    ids = send(function_stack, [request(address) for address in addresses[:10]])
    ids += send(function_stack, [request(address) for address in addresses[10:]])

    # When the event source runs until the queue is empty
    with event_source(function_stack, lambda_invoker, trigger) as source:
        assert source.wait_until_drained(SETTLE_TIMEOUT_S)

    # Then invocations overlapped, never more than the maximum, and each message was handled once
    stats = source.stats()
    assert 2 <= stats.peak_concurrency <= 3
    assert source.receive_counts() == dict.fromkeys(ids, 1)
    assert source.deleted_message_ids() == set(ids)
    assert function_stack.hubspot.successful_unsubscribes() == dict.fromkeys(addresses, 1)


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(RecordingHandler(error=RuntimeError("boom")), id="raises"),
        pytest.param(
            RecordingHandler(answer={"batchItemFailures": [{"itemIdentifier": "x"}]}), id="unknown-id"
        ),
        pytest.param(RecordingHandler(answer={"batchItemFailures": [{"itemIdentifier": ""}]}), id="empty-id"),
        pytest.param(
            RecordingHandler(
                answer=lambda event: {"batchItemFailures": [{"id": event["Records"][0]["messageId"]}]}
            ),
            id="bad-key-name",
        ),
        pytest.param(RecordingHandler(answer=lambda event: {"batchItemFailures": {1, 2}}), id="not-json"),
    ],
)
def test_an_invocation_that_fails_or_answers_malformed_deletes_nothing(
    function_stack, function_definition, handler
):
    # Given a function that fails the whole batch in one of the ways AWS documents
    invoker = LambdaInvoker(function_definition, load=lambda: handler)
    ids = send(function_stack, [request("a@example.com"), request("b@example.com")])

    # When the event source has delivered the batch once
    with event_source(function_stack, invoker, one_poller(function_definition)) as source:
        assert source.wait_until_received(ids, SETTLE_TIMEOUT_S)
        stats = source.stats()

    # Then neither message was deleted
    assert source.deleted_message_ids() == set()
    assert (stats.messages_deleted, stats.messages_failed) == (0, 2)


@pytest.mark.parametrize("answer", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_answer_that_reports_no_failure_acknowledges_the_whole_batch(answer):
    # Given any of the answers AWS documents as a complete success
    # When the event source reads it
    failed = failed_message_ids(answer, ["m1", "m2"], report_batch_item_failures=True)

    # Then no message stays on the queue
    assert failed == set()


def test_without_report_batch_item_failures_the_answer_is_ignored():
    # Given an event source mapping without FunctionResponseTypes: [ReportBatchItemFailures]
    # When the function reports a failure
    failed = failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": "m1"}]}, ["m1", "m2"], report_batch_item_failures=False
    )

    # Then Lambda ignores it: the invocation succeeded, so the whole batch is deleted
    assert failed == set()


def test_stop_waits_for_the_invocation_in_progress(function_stack, function_definition):
    # Given a function invocation that is still running
    release = threading.Event()
    started = threading.Event()

    def slow_handler(event: dict[str, Any], context: Any) -> None:
        started.set()
        release.wait(SETTLE_TIMEOUT_S)

    invoker = LambdaInvoker(function_definition, load=lambda: slow_handler)
    [message_id] = send(function_stack, [request("pending@example.com")])
    source = SqsEventSource(
        function_stack.session.client("sqs", config=CLIENT_CONFIG),
        QueueRef(function_stack.resources.queue_url, function_stack.resources.queue_arn, REGION),
        invoker,
        one_poller(function_definition),
    )
    source.start()
    assert started.wait(SETTLE_TIMEOUT_S)

    # When the event source is stopped while it runs, and the invocation then finishes
    stopper = threading.Thread(target=source.stop)
    stopper.start()
    stopper.join(0.2)
    still_stopping = stopper.is_alive()
    release.set()
    stopper.join(SETTLE_TIMEOUT_S)

    # Then stop returned only after settling it (deleting the message), and no poller is left
    assert still_stopping
    assert not stopper.is_alive()
    assert source.deleted_message_ids() == {message_id}
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("sqs-poller")]


def test_concurrent_cold_starts_leave_the_process_s_own_handler_module_in_place(function_definition):
    # Given the handler module as the rest of this process imported it
    import app  # noqa: PLC0415 - the module object the other tests use

    # When several environments cold-start at the same moment, as concurrent pollers' do
    barrier = threading.Barrier(8)
    loaded: list[Any] = []

    def cold_start() -> None:
        barrier.wait()
        loaded.append(load_handler(function_definition.code_uri, function_definition.handler))

    threads = [threading.Thread(target=cold_start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each got a handler of its own, and `import app` still gives the process's module
    assert len({id(handler) for handler in loaded}) == 8
    assert sys.modules["app"] is app
