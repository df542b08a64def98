"""An SQS event's records as Lambda delivers them, and the partial-batch answer the event source reads."""

from __future__ import annotations

from optout.triggers.sqs_event import SqsRecord, partial_batch_response
from tests.events import load_event


def test_a_record_carries_what_the_trigger_reads_from_the_event():
    # Given the sample event's first record, as Lambda delivers it
    raw = load_event("sqs-batch")["Records"][0]

    # When it is read
    record = SqsRecord.from_event(raw)

    # Then its id, receipt, body, source queue and receive count are the event's own
    assert record == SqsRecord(
        message_id=raw["messageId"],
        receipt_handle=raw["receiptHandle"],
        body=raw["body"],
        event_source_arn=raw["eventSourceARN"],
        receive_count=raw["attributes"]["ApproximateReceiveCount"],
    )


def test_the_answer_names_the_messages_to_deliver_again_in_order():
    # Given two messages to retry; when the answer is made, then it names each, as the event source reads it
    assert partial_batch_response(["m-2", "m-1"]) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-1"}]
    }
    assert partial_batch_response([]) == {"batchItemFailures": []}
