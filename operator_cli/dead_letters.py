"""`dlq` and `dlq redrive`: what is on the dead-letter queue and why, and moving it back.

Listing receives the messages (hidden briefly, never deleted) and makes them visible again at
once when done, even when interrupted. The function parks a message with its reason as
message attributes (see optout/aws/dead_letters.py); one SQS moved after maxReceiveCount failed
deliveries has none. Everything shown is escaped (`optout.printable`): producers wrote the bodies,
and a newline or bidi override in them must not forge a line of the listing.

Redrive uses SQS's own message move task (StartMessageMoveTask from the DLQ to the queue) and
waits for it. An endpoint without it (moto) gets a plain move instead: receive, send to the
queue with body and attributes unchanged, then delete; at worst a message is on both queues
(its idempotency key keeps the function from running it twice), never on neither. The plain
move takes at most as many messages as the DLQ held when it started, so messages the function
parks again meanwhile are not moved round in circles.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from operator_cli.batch_sender import BATCH_LIMIT, BatchSender, Message, SendFailedError, describe_aws_error
from operator_cli.errors import OperationError
from optout.dead_letter_format import BASE64, BODY_ENCODING
from optout.domain.request import InvalidRequestError
from optout.masking import mask_email
from optout.printable import escape_unprintable
from optout.triggers.message_body import unwrap
from optout.triggers.strict_json import decode_json

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, MessageTypeDef

LIST_VISIBILITY_S = 30
MOVE_VISIBILITY_S = 60
# One long poll (it asks every SQS server) confirms a queue is empty; ends every receive loop.
EMPTY_WAIT_S = 1
NATIVE = "SQS's message move task"
PLAIN = "receive, send and delete (the endpoint has no message move task)"
_UNSUPPORTED_CODES = {
    "UnsupportedOperation",
    "AWS.SimpleQueueService.UnsupportedOperation",
    "InvalidAction",
    "NotImplemented",
    "UnknownOperation",
    "UnknownOperationException",
}
_TASK_DONE = {"COMPLETED", "FAILED", "CANCELLED"}
_AT_RUN = re.compile(r"\S*@\S*")


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    message_id: str
    subscriber: str  # masked, or "-" when the body is not a request
    reason: str
    category: str
    detail: str
    failed_at: str
    source_message_id: str
    receive_count: str
    body_encoding: str = "-"


def _attribute(message: MessageTypeDef, name: str) -> str:
    value = (message.get("MessageAttributes") or {}).get(name)
    return (value.get("StringValue") if value else None) or "-"


def _decoded_body(body: str, encoding: str) -> str:
    if encoding != BASE64:
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8", errors="surrogatepass")
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _masked_subscriber(body: str) -> str:
    try:
        request = unwrap(decode_json(body))
    except InvalidRequestError:
        return "-"
    if not isinstance(request, dict):
        return "-"
    subscriber = request.get("subscriberIdString") or request.get("email")
    return mask_email(subscriber) if isinstance(subscriber, str) else "-"


def _masked_text(text: str) -> str:
    """Every run of non-space characters holding an @ masked: the function masks its details
    already, but misses addresses such as `a@@x.com` or a quoted local part, so mask again."""
    return _AT_RUN.sub(lambda match: mask_email(match.group()), text)


def _shown(text: str) -> str:
    # The function escapes what it writes; its backslashes are kept, not doubled.
    return escape_unprintable(text, backslash=False)


def view_of(message: MessageTypeDef) -> DeadLetterView:
    """What is shown of a dead letter: every field escaped, addresses masked."""
    encoding = _attribute(message, BODY_ENCODING)
    return DeadLetterView(
        message_id=_shown(message.get("MessageId", "-")),
        subscriber=_shown(_masked_subscriber(_decoded_body(message.get("Body", ""), encoding))),
        reason=_shown(_attribute(message, "reason")),
        category=_shown(_attribute(message, "category")),
        detail=_shown(_masked_text(_attribute(message, "detail"))),
        failed_at=_shown(_attribute(message, "failedAt")),
        source_message_id=_shown(_attribute(message, "sourceMessageId")),
        receive_count=_shown(_attribute(message, "receiveCount")),
        body_encoding=_shown(encoding),
    )


def describe(index: int, view: DeadLetterView) -> list[str]:
    if view.reason == "-":
        why = "no reason attribute: SQS moved it after repeated failed deliveries"
    else:
        why = f"{view.reason} ({view.category})"
    known = [
        f"{label} {value}"
        for label, value in (
            ("failed at", view.failed_at),
            ("source message", view.source_message_id),
            ("receives", view.receive_count),
            ("message", view.message_id),
            ("body", view.body_encoding),
        )
        if value != "-"
    ]
    return [
        f"{index}. {view.subscriber}  {why}",
        f"   {'; '.join(known)}",
        *([f"   detail: {view.detail}"] if view.detail != "-" else []),
    ]


def _batches(
    sqs: SQSClient, queue_url: str, visibility_s: int, empty_wait_s: int
) -> Iterator[list[MessageTypeDef]]:
    """Receives until one long poll finds nothing."""
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH_LIMIT,
            VisibilityTimeout=visibility_s,
            WaitTimeSeconds=empty_wait_s,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        yield messages


def _release(sqs: SQSClient, queue_url: str, receipt_handles: Iterable[str]) -> int:
    """Makes received messages visible again now; returns how many could not be."""
    handles = list(receipt_handles)
    failed = 0
    for start in range(0, len(handles), BATCH_LIMIT):
        chunk = handles[start : start + BATCH_LIMIT]
        try:
            response = sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(chunk)
                ],
            )
        except (BotoCoreError, ClientError):
            failed += len(chunk)
            continue
        failed += len(response.get("Failed", []))
    return failed


def approximate_count(sqs: SQSClient, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes.get("Attributes", {}).get("ApproximateNumberOfMessages", "0"))


@dataclass(frozen=True)
class Listing:
    letters: list[DeadLetterView]
    limit_reached: bool
    approximate_total: int
    not_released: int  # stay hidden until their visibility timeout ends


def list_dead_letters(
    sqs: SQSClient, dlq_url: str, *, limit: int, empty_wait_s: int = EMPTY_WAIT_S
) -> Listing:
    held: dict[str, str] = {}  # message id -> its latest receipt handle
    letters: dict[str, DeadLetterView] = {}
    limit_reached = False
    try:
        for messages in _batches(sqs, dlq_url, LIST_VISIBILITY_S, empty_wait_s):
            for message in messages:
                message_id = message.get("MessageId", "")
                held[message_id] = message.get("ReceiptHandle", "")
                if message_id not in letters and len(letters) < limit:
                    letters[message_id] = view_of(message)
            if len(letters) >= limit:
                limit_reached = True
                break
    finally:
        not_released = _release(sqs, dlq_url, held.values())
    return Listing(list(letters.values()), limit_reached, approximate_count(sqs, dlq_url), not_released)


@dataclass(frozen=True)
class RedriveResult:
    method: str
    moved: int
    status: str = "COMPLETED"
    task_handle: str | None = None


def queue_arn(sqs: SQSClient, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def is_unsupported(error: ClientError) -> bool:
    """The endpoint lacks the operation (moto answers an unknown action with a bare HTTP 500)."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in _UNSUPPORTED_CODES or status == 501 or (status >= 500 and code.isdigit())


def _attributes(message: MessageTypeDef) -> dict[str, MessageAttributeValueTypeDef]:
    copied: dict[str, MessageAttributeValueTypeDef] = {}
    for name, value in message.get("MessageAttributes", {}).items():
        kept: dict[str, Any] = {"DataType": value["DataType"]}
        for field in ("StringValue", "BinaryValue"):
            if field in value:
                kept[field] = value[field]
        copied[name] = kept  # type: ignore[assignment]
    return copied


def _delete(sqs: SQSClient, queue_url: str, messages: Sequence[MessageTypeDef]) -> int:
    """Deletes the messages; returns how many could not be (they are now on both queues)."""
    if not messages:
        return 0
    response = sqs.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)],
    )
    return len(response.get("Failed", []))


def move_by_hand(
    sqs: SQSClient, dlq_url: str, queue_url: str, sender: BatchSender, *, empty_wait_s: int = EMPTY_WAIT_S
) -> RedriveResult:
    """Moves at most the messages the DLQ held at the start: send first, then delete."""
    budget = approximate_count(sqs, dlq_url)
    moved = 0
    not_deleted = 0
    for messages in _batches(sqs, dlq_url, MOVE_VISIBILITY_S, empty_wait_s) if budget else iter(()):
        taken, extra = messages[: budget - moved], messages[budget - moved :]
        _release(sqs, dlq_url, (message["ReceiptHandle"] for message in extra))
        batch = [
            Message(str(index), message.get("Body", ""), _attributes(message))
            for index, message in enumerate(taken)
        ]
        try:
            sender.send(batch)
        except SendFailedError as error:
            not_deleted += _delete(sqs, dlq_url, taken[: error.acknowledged])
            _release(sqs, dlq_url, (message["ReceiptHandle"] for message in taken[error.acknowledged :]))
            raise OperationError(
                f"{error}; moved {moved + error.acknowledged} message(s) before it, the rest stay on the DLQ"
            ) from error
        not_deleted += _delete(sqs, dlq_url, taken)
        moved += len(taken)
        if moved >= budget:
            break
    if not_deleted:
        raise OperationError(
            f"moved {moved} message(s), but {not_deleted} could not be deleted from the DLQ: "
            "they are on both queues"
        )
    return RedriveResult(PLAIN, moved)


def _await_task(
    sqs: SQSClient,
    dlq_arn: str,
    handle: str,
    *,
    timeout_s: float,
    poll_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> RedriveResult:
    deadline = clock() + timeout_s
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10).get("Results", [])
        task = next((task for task in tasks if task.get("TaskHandle") == handle), None)
        status = task.get("Status", "?") if task else "?"
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0)) if task else 0
        if task and status == "FAILED":
            raise OperationError(
                f"the message move task failed after moving about {moved}: {task.get('FailureReason', '?')}"
            )
        if status in _TASK_DONE or clock() >= deadline:
            return RedriveResult(NATIVE, moved, status, handle)
        sleep(poll_s)


def redrive(
    sqs: SQSClient,
    probe: SQSClient,
    dlq_url: str,
    queue_url: str,
    *,
    wait: bool = True,
    timeout_s: float = 300.0,
    poll_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    empty_wait_s: int = EMPTY_WAIT_S,
) -> RedriveResult:
    """`probe` (a client that does not retry) asks for the move task, so an endpoint without
    one is recognised at once rather than after botocore's retries of its 500s."""
    dlq_arn, destination_arn = queue_arn(sqs, dlq_url), queue_arn(sqs, queue_url)
    try:
        handle = probe.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn)[
            "TaskHandle"
        ]
    except ClientError as error:
        if not is_unsupported(error):
            raise OperationError(f"StartMessageMoveTask failed: {describe_aws_error(error)}") from None
        return move_by_hand(sqs, dlq_url, queue_url, BatchSender(sqs, queue_url), empty_wait_s=empty_wait_s)
    if not wait:
        return RedriveResult(NATIVE, 0, "RUNNING", handle)
    return _await_task(sqs, dlq_arn, handle, timeout_s=timeout_s, poll_s=poll_s, sleep=sleep, clock=clock)
