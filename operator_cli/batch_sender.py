"""SendMessageBatch with the entries SQS reports as failed retried, with backoff, until sent.

A whole call that fails has already been retried by botocore (standard mode: throttling, 5xx,
connection errors); entries SQS refuses one by one are retried here with full-jitter backoff,
except those it blames on the sender (retrying them cannot help). A batch that cannot be sent
raises SendFailedError saying how many of its leading messages did get through.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from operator_cli.errors import OperationError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageBatchRequestEntryTypeDef

BATCH_LIMIT = 10  # SendMessageBatch's most entries per call


@dataclass(frozen=True, slots=True)
class Message:
    id: str  # unique within a batch: letters, digits, - and _ only
    body: str
    attributes: Mapping[str, MessageAttributeValueTypeDef] = field(default_factory=dict)

    def entry(self) -> SendMessageBatchRequestEntryTypeDef:
        entry: SendMessageBatchRequestEntryTypeDef = {"Id": self.id, "MessageBody": self.body}
        if self.attributes:
            entry["MessageAttributes"] = dict(self.attributes)
        return entry


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delay_s(self, retry: int) -> float:
        """Full jitter: uniform up to an exponentially growing cap."""
        cap: float = min(self.max_delay_s, self.base_delay_s * 2**retry)
        return random.uniform(0, cap)  # noqa: S311 - jitter, not secrecy


class SendFailedError(OperationError):
    def __init__(self, message: str, acknowledged: int) -> None:
        super().__init__(message)
        self.acknowledged = acknowledged  # how many leading messages of the batch are on the queue


def describe_aws_error(error: BotoCoreError | ClientError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', '?')}: {details.get('Message', '')}".rstrip(": ")
    return str(error)


class BatchSender:
    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

    def send(self, messages: Sequence[Message]) -> None:
        """Returns once SQS has acknowledged every message; else raises SendFailedError."""
        if len(messages) > BATCH_LIMIT:
            raise ValueError(f"at most {BATCH_LIMIT} messages a batch")
        pending = {message.id: message for message in messages}
        codes: set[str] = set()
        for attempt in range(self._policy.attempts):
            if attempt:
                self._sleep(self._policy.delay_s(attempt))
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[item.entry() for item in pending.values()],
                )
            except (BotoCoreError, ClientError) as error:
                raise SendFailedError(
                    f"SendMessageBatch failed: {describe_aws_error(error)}", _prefix(messages, pending)
                ) from error
            for success in response.get("Successful", []):
                pending.pop(success["Id"], None)
            failures = response.get("Failed", [])
            codes = {failure.get("Code", "?") for failure in failures}
            if any(failure.get("SenderFault") for failure in failures):
                raise SendFailedError(
                    f"SQS refused messages as invalid ({', '.join(sorted(codes))})",
                    _prefix(messages, pending),
                )
            if not pending:
                return
        raise SendFailedError(
            f"SQS refused {len(pending)} message(s) {self._policy.attempts} times"
            f" ({', '.join(sorted(codes)) or 'no reason given'})",
            _prefix(messages, pending),
        )


def _prefix(messages: Sequence[Message], pending: dict[str, Message]) -> int:
    for count, message in enumerate(messages):
        if message.id in pending:
            return count
    return len(messages)
