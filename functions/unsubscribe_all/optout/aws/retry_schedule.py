"""Brings a retryable message back when it can succeed, not after the full visibility timeout.

A record HubSpot rate-limited for two seconds should not wait the queue's three minutes; one
whose retry time is unknown keeps the queue's own timeout. Best effort: if the change fails,
the message simply returns after the default timeout.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from optout.aws.call_budget import CallBudget
from optout.deadline import Deadline
from optout.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

CHANGE_BATCH_LIMIT = 10
# Spread retries of one burst over a little more time, so they do not return all at once.
JITTER = 0.2
# SQS allows a visibility timeout of at most 12 hours.
MAX_VISIBILITY_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class ScheduledRetry:
    receipt_handle: str
    source_arn: str
    after_s: float


class RetrySchedule:
    def __init__(
        self, queue_url: str | None, sqs: Callable[[], SQSClient], budget: CallBudget | None = None
    ) -> None:
        self._rng = random.Random()  # noqa: S311 - jitter, not security
        self._queue_url = queue_url
        self._queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1] if queue_url else None
        self._sqs = sqs
        self._budget = budget or CallBudget()

    def reseed(self) -> None:
        """Fresh jitter, so copies restored from one SnapStart snapshot do not retry in step."""
        self._rng.seed()

    def schedule(self, retries: Sequence[ScheduledRetry], deadline: Deadline | None = None) -> None:
        """Changes the visibility of the messages the deadline leaves time for."""
        with self._budget.until(deadline):
            self._schedule(retries)

    def _schedule(self, retries: Sequence[ScheduledRetry]) -> None:
        # Only the queue this function is configured with: a fan-in from another queue keeps
        # that queue's timeout.
        own = [retry for retry in retries if retry.source_arn.rsplit(":", 1)[-1] == self._queue_name]
        if self._queue_url is None or not own:
            return
        for start in range(0, len(own), CHANGE_BATCH_LIMIT):
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "ReceiptHandle": retry.receipt_handle,
                    "VisibilityTimeout": self._visibility(retry.after_s),
                }
                for index, retry in enumerate(own[start : start + CHANGE_BATCH_LIMIT])
            ]
            try:
                response = self._sqs().change_message_visibility_batch(
                    QueueUrl=self._queue_url, Entries=entries
                )
            except (BotoCoreError, ClientError) as error:
                logger.warning("could not schedule retries", error=type(error).__name__)
                continue
            if response.get("Failed"):
                logger.warning("some retries could not be scheduled", failed=len(response["Failed"]))

    def _visibility(self, after_s: float) -> int:
        return min(MAX_VISIBILITY_S, max(1, math.ceil(after_s * self._rng.uniform(1, 1 + JITTER))))
