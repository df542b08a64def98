"""The SQS trigger: a batch of messages in, the messages to retry out (partial batch failure).

Every message ends one of three ways, so none is ever dropped: unsubscribed (acknowledged),
parked on the dead-letter queue with its reason (acknowledged), or reported in
`batchItemFailures` for SQS to deliver again, sooner when the wait is known.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from optout.dead_letters import DeadLetter
from optout.deadline import Deadline
from optout.message_body import parse_message_body
from optout.observability import logger
from optout.outcome_report import report
from optout.retry_schedule import ScheduledRetry
from optout.runtime import Runtime
from optout.unsubscribe_request import InvalidRequestError, UnsubscribeRequest
from optout.unsubscribe_service import ItemResult, Rejected, RetryLater, WorkItem

# Time kept back from the invocation's remaining time to park, report and answer.
SAFETY_MARGIN_S = 3.0
# Added to the function's timeout before a duplicate held up by an in-progress record returns.
IN_PROGRESS_MARGIN_S = 2.0


class RetryableRecordError(Exception):
    """Raised for a record SQS should deliver again (what BatchProcessor reports as failed)."""


def identity_of(record: SQSRecord, request: UnsubscribeRequest) -> str:
    if request.idempotency_key is not None:
        return f"key:{request.idempotency_key}"
    return f"sqs-message:{record.message_id}"


def _dead_letter(record: SQSRecord, rejected: Rejected) -> DeadLetter:
    return DeadLetter(
        message_id=record.message_id,
        body=record.body,
        reason=rejected.reason,
        detail=rejected.message,
        source_arn=record.event_source_arn,
        receive_count=record.attributes.approximate_receive_count,
    )


def _parse(records: list[SQSRecord]) -> tuple[dict[str, UnsubscribeRequest], dict[str, ItemResult]]:
    requests: dict[str, UnsubscribeRequest] = {}
    rejected: dict[str, ItemResult] = {}
    for record in records:
        try:
            requests[record.message_id] = parse_message_body(record.body)
        except InvalidRequestError as error:
            rejected[record.message_id] = Rejected(error.reason, error.message)
    return requests, rejected


def _retry_after(result: RetryLater, in_progress_wait_s: float) -> float | None:
    # Another invocation holds the key: it finishes, or its in-progress record expires, within
    # the function's timeout. Sooner would spend the message's receives on waiting; the queue's
    # visibility timeout (6 x the function's timeout) would hold it up for minutes.
    if result.kind == "in_progress" and result.retry_after_s is None:
        return in_progress_wait_s
    return result.retry_after_s


def _settle(
    records: list[SQSRecord], deadline: Deadline, in_progress_wait_s: float, runtime: Runtime
) -> dict[str, ItemResult]:
    """Each record's result: parsed, run through the service, the rejected ones parked."""
    requests, results = _parse(records)
    by_id = {record.message_id: record for record in records}
    items = [
        WorkItem(request, identity_of(by_id[message_id], request)) for message_id, request in requests.items()
    ]
    results.update(zip(requests, runtime.service.unsubscribe_many(items, deadline), strict=True))

    letters = [
        _dead_letter(by_id[id_], result) for id_, result in results.items() if isinstance(result, Rejected)
    ]
    for message_id in runtime.dead_letters.park(letters):
        results[message_id] = RetryLater(
            "dead_letter_queue", "could not park the message on the dead-letter queue"
        )

    for message_id, result in results.items():
        request = requests.get(message_id)
        subscriber = request.subscriber if request else None
        report(runtime.metrics, result, correlation_id=message_id, subscriber=subscriber)
    retries = {
        message_id: _retry_after(result, in_progress_wait_s)
        for message_id, result in results.items()
        if isinstance(result, RetryLater)
    }
    runtime.retries.schedule(
        [
            ScheduledRetry(by_id[message_id].receipt_handle, by_id[message_id].event_source_arn, after_s)
            for message_id, after_s in retries.items()
            if after_s is not None
        ]
    )
    return results


def handle_sqs_event(
    event: dict[str, Any], context: LambdaContext, runtime: Runtime
) -> PartialItemFailureResponse:
    # Every invocation of the function starts with its timeout ahead of it.
    function_timeout_s = context.get_remaining_time_in_millis() / 1000
    deadline = Deadline.for_invocation(context, SAFETY_MARGIN_S)
    records = [SQSRecord(raw) for raw in event["Records"]]
    results = _settle(records, deadline, function_timeout_s + IN_PROGRESS_MARGIN_S, runtime)

    def record_handler(record: SQSRecord) -> None:
        result = results[record.message_id]
        if isinstance(result, RetryLater):
            raise RetryableRecordError(result.kind)

    # Every result is known by now; the processor maps them to SQS's partial-failure answer.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    logger.info(
        "batch settled",
        records=len(records),
        retrying=len(response["batchItemFailures"]),
    )
    return response
