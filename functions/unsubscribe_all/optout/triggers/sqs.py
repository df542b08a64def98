"""The SQS trigger: a batch of messages in, the messages to retry out (partial batch failure).

Every message ends one of three ways, so none is ever dropped: unsubscribed (acknowledged),
parked on the dead-letter queue with its reason (acknowledged), or reported in
`batchItemFailures` for SQS to deliver again, sooner when the wait is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optout.aws.call_budget import CallBudget
from optout.aws.dead_letters import DeadLetter, DeadLetterQueue
from optout.aws.retry_schedule import RetrySchedule, ScheduledRetry
from optout.deadline import Deadline
from optout.domain.reporting import report
from optout.domain.request import InvalidRequestError
from optout.domain.service import UnsubscribeService, WorkItem
from optout.observability import MetricsRecorder, logger
from optout.outcomes import Outcome, Rejected, RetryKind, RetryLater
from optout.triggers.message_body import QueueMessage, read_message_body
from optout.triggers.sqs_event import PartialBatchResponse, SqsRecord, partial_batch_response

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Time kept back from the invocation's remaining time to park, report and answer; parking and
# delaying retries stop short of the end by ANSWER_MARGIN_S, for the answer alone.
SAFETY_MARGIN_S = 3.0
ANSWER_MARGIN_S = 0.25
# Added to the function's timeout before a duplicate held up by an in-progress record returns.
IN_PROGRESS_MARGIN_S = 2.0


NOT_REACHED = RetryLater(RetryKind.OUT_OF_TIME, "the invocation ran out of time before reading the message")


def identity_of(record: SqsRecord, message: QueueMessage) -> str:
    """The producer's key; else the id of the delivery SNS or EventBridge made; else the message's."""
    if message.request.idempotency_key is not None:
        return f"key:{message.request.idempotency_key}"
    return message.delivery_id or f"sqs-message:{record.message_id}"


def read_records(
    records: list[SqsRecord], deadline: Deadline
) -> tuple[list[WorkItem], dict[str, Rejected | RetryLater]]:
    """Each record's work item, or why it has none; records the deadline does not reach are left
    for a retry, so a flood of heavy bodies cannot spend the whole invocation on parsing."""
    items: list[WorkItem] = []
    others: dict[str, Rejected | RetryLater] = {}
    for record in records:
        if deadline.expired():
            others[record.message_id] = NOT_REACHED
            continue
        try:
            message = read_message_body(record.body)
        except InvalidRequestError as error:
            others[record.message_id] = Rejected(error.reason, error.message)
            continue
        items.append(
            WorkItem(message.request, identity_of(record, message), correlation_id=record.message_id)
        )
    return items, others


def _dead_letter(record: SqsRecord, rejected: Rejected) -> DeadLetter:
    return DeadLetter(
        message_id=record.message_id,
        body=record.body,
        reason=rejected.reason,
        detail=rejected.message,
        source_arn=record.event_source_arn,
        receive_count=record.receive_count,
    )


def _retry_after(outcome: RetryLater, in_progress_wait_s: float) -> float | None:
    # Another invocation holds the key: it finishes, or its in-progress record expires, within
    # the function's timeout. Sooner would spend the message's receives on waiting; the queue's
    # visibility timeout (6 x the function's timeout) would hold it up for minutes.
    if outcome.kind is RetryKind.IN_PROGRESS and outcome.retry_after_s is None:
        return in_progress_wait_s
    return outcome.retry_after_s


class SqsTrigger:
    def __init__(
        self,
        service: UnsubscribeService,
        dead_letters: DeadLetterQueue,
        retries: RetrySchedule,
        metrics: MetricsRecorder,
        budget: CallBudget | None = None,
    ) -> None:
        self._service = service
        self._dead_letters = dead_letters
        self._retries = retries
        self._metrics = metrics
        self._budget = budget or CallBudget()

    def handle(self, event: dict[str, Any], context: LambdaContext) -> PartialBatchResponse:
        # Every invocation of the function starts with its timeout ahead of it.
        function_timeout_s = context.get_remaining_time_in_millis() / 1000
        deadline = Deadline.for_invocation(context, SAFETY_MARGIN_S)
        finish = Deadline.for_invocation(context, ANSWER_MARGIN_S)
        # The AWS calls made for the records (idempotency store, token) end by the deadline too.
        self._budget.start_invocation(deadline)
        records = [SqsRecord.from_event(raw) for raw in event["Records"]]
        outcomes = self._settle(records, deadline, finish, function_timeout_s + IN_PROGRESS_MARGIN_S)
        retrying = [
            record.message_id for record in records if isinstance(outcomes[record.message_id], RetryLater)
        ]
        logger.info("batch settled", records=len(records), retrying=len(retrying))
        return partial_batch_response(retrying)

    def _settle(
        self, records: list[SqsRecord], deadline: Deadline, finish: Deadline, in_progress_wait_s: float
    ) -> dict[str, Outcome]:
        """Each record's outcome: parsed, carried out by the service, the rejected ones parked."""
        by_id = {record.message_id: record for record in records}
        items, others = read_records(records, deadline)
        outcomes: dict[str, Outcome] = {
            message_id: self._reported(by_id[message_id], outcome) for message_id, outcome in others.items()
        }
        done = self._service.unsubscribe_many(items, deadline)
        outcomes.update((item.correlation_id, outcome) for item, outcome in zip(items, done, strict=True))

        letters = [
            _dead_letter(by_id[id_], outcome)
            for id_, outcome in outcomes.items()
            if isinstance(outcome, Rejected)
        ]
        for message_id in self._dead_letters.park(letters, finish):
            outcomes[message_id] = self._reported(
                by_id[message_id],
                RetryLater(
                    RetryKind.DEAD_LETTER_QUEUE, "could not park the message on the dead-letter queue"
                ),
            )

        self._retries.schedule(
            [
                ScheduledRetry(by_id[message_id].receipt_handle, by_id[message_id].event_source_arn, after_s)
                for message_id, outcome in outcomes.items()
                if isinstance(outcome, RetryLater)
                and (after_s := _retry_after(outcome, in_progress_wait_s)) is not None
            ],
            finish,
        )
        return outcomes

    def _reported(self, record: SqsRecord, outcome: Outcome) -> Outcome:
        """An outcome the trigger decided itself (the service reports the others)."""
        report(self._metrics, outcome, correlation_id=record.message_id, subscriber=None)
        return outcome
