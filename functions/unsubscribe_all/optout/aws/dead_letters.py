"""Parks messages that can never succeed on the dead-letter queue at once, saying why.

Such a message is not retried maxReceiveCount times first: it goes to the DLQ with its original
body and the reason as message attributes, and only then is it acknowledged. A message that
could not be parked is reported back, so the caller retries it instead of losing it.

What producers wrote never makes the send fail: attribute values are escaped (`optout.printable`:
a key name holding NUL, a lone surrogate, a newline or a bidi override reads back as its escape),
and a body holding a character SQS does not carry (it allows #x9, #xA, #xD, #x20-#xD7FF,
#xE000-#xFFFD and #x10000-#x10FFFF; others are refused or replaced with U+FFFD) is parked as
base64 of its UTF-8, lone surrogates kept, with the attribute `bodyEncoding: base64`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from optout.aws.call_budget import CallBudget, NoTimeLeftError
from optout.dead_letter_format import BASE64, BODY_ENCODING
from optout.deadline import Deadline
from optout.masking import mask_emails_in_text
from optout.observability import logger
from optout.outcomes import Reason
from optout.printable import escape_unprintable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageBatchRequestEntryTypeDef

SEND_BATCH_LIMIT = 10
MAX_DETAIL_LENGTH = 512
MAX_ATTRIBUTE_LENGTH = 256
# Compiled on the first letter parked (re keeps it), not at import: about 5 ms of a cold start.
_NOT_FOR_SQS = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    body: str
    reason: Reason
    detail: str
    source_arn: str
    receive_count: str


def category_of(reason: Reason) -> str:
    """`validation` for a message that was never a valid request, else who refused it."""
    if reason.is_producers_fault:
        return "validation"
    return "hubspot" if reason is Reason.HUBSPOT_REJECTED else "idempotency"


def _attribute(value: str, limit: int = MAX_ATTRIBUTE_LENGTH) -> MessageAttributeValueTypeDef:
    return {"DataType": "String", "StringValue": escape_unprintable(value[:limit]) or "-"}


def body_for_sqs(body: str) -> tuple[str, str | None]:
    """The body as SQS can carry it, and its encoding when it had to be encoded."""
    if body and not re.search(_NOT_FOR_SQS, body):
        return body, None
    return base64.b64encode(body.encode("utf-8", errors="surrogatepass")).decode("ascii"), BASE64


class DeadLetterQueue:
    def __init__(
        self, queue_url: str, sqs: Callable[[], SQSClient], budget: CallBudget | None = None
    ) -> None:
        self._queue_url = queue_url
        self._sqs = sqs
        self._budget = budget or CallBudget()

    def park(self, letters: Sequence[DeadLetter], deadline: Deadline | None = None) -> set[str]:
        """Sends the letters by the deadline; returns the message ids that could not be parked."""
        failed_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        not_parked: set[str] = set()
        with self._budget.until(deadline):
            for start in range(0, len(letters), SEND_BATCH_LIMIT):
                not_parked |= self._send(letters[start : start + SEND_BATCH_LIMIT], failed_at)
        return not_parked

    def _send(self, letters: Sequence[DeadLetter], failed_at: str) -> set[str]:
        entries = [_entry(str(index), letter, failed_at) for index, letter in enumerate(letters)]
        by_entry = {entry["Id"]: letter for entry, letter in zip(entries, letters, strict=True)}
        try:
            response = self._sqs().send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except (BotoCoreError, ClientError, ValueError) as error:
            if len(letters) > 1 and not isinstance(error, NoTimeLeftError):
                # One letter SQS refuses (too large with its attributes, say) fails the whole
                # request: each is sent alone, so only that one is left for retry.
                return set().union(*(self._send([letter], failed_at) for letter in letters))
            logger.error("could not park a message on the dead-letter queue", error=type(error).__name__)
            return {letters[0].message_id}
        not_parked: set[str] = set()
        for failure in response.get("Failed", []):
            logger.error("the dead-letter queue refused a message", code=failure.get("Code"))
            not_parked.add(by_entry[failure["Id"]].message_id)
        return not_parked


def _entry(entry_id: str, letter: DeadLetter, failed_at: str) -> SendMessageBatchRequestEntryTypeDef:
    body, encoding = body_for_sqs(letter.body)
    attributes = {
        "reason": _attribute(letter.reason.value),
        "category": _attribute(category_of(letter.reason)),
        "detail": _attribute(mask_emails_in_text(letter.detail), MAX_DETAIL_LENGTH),
        "sourceMessageId": _attribute(letter.message_id),
        "sourceQueueArn": _attribute(letter.source_arn),
        "receiveCount": _attribute(letter.receive_count),
        "failedAt": _attribute(failed_at),
    }
    if encoding is not None:
        attributes[BODY_ENCODING] = _attribute(encoding)
    return {"Id": entry_id, "MessageBody": body, "MessageAttributes": attributes}
