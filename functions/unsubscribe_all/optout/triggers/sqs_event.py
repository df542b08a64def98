"""An SQS event's records as Lambda delivers them, and the partial-batch answer it expects back.

Read here rather than through Powertools' SQSRecord and BatchProcessor: their package imports
every event class Powertools has (S3, Kafka, Bedrock and the rest) and asyncio, about 40 ms of
every cold start, for five fields of a record and a list of failed message ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    """What an SQS event source with `ReportBatchItemFailures` reads: the messages to deliver again."""

    batchItemFailures: list[BatchItemFailure]


@dataclass(frozen=True, slots=True)
class SqsRecord:
    message_id: str
    receipt_handle: str
    body: str
    event_source_arn: str
    receive_count: str

    @classmethod
    def from_event(cls, record: Mapping[str, Any]) -> SqsRecord:
        return cls(
            message_id=record["messageId"],
            receipt_handle=record["receiptHandle"],
            body=record["body"],
            event_source_arn=record["eventSourceARN"],
            receive_count=record["attributes"]["ApproximateReceiveCount"],
        )


def partial_batch_response(failed_message_ids: Iterable[str]) -> PartialBatchResponse:
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed_message_ids]}
