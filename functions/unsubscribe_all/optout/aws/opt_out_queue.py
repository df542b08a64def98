"""Puts an opt-out on the function's own queue, as a producer would: the same path as every other.

The message is the request object of `schemas/message.schema.json` (`subscriberIdString`,
`businessUnitId` when there is one, `idempotencyKey`), so the SQS trigger carries it out, retries
it and parks it exactly as it does a producer's. A send that fails is reported, never dropped
silently: the caller answers that it should be tried again. Its calls end by the request's
deadline, as every call of the function's clients does (`call_budget`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from optout.domain.one_click import LinksUnavailableError
from optout.domain.request import UnsubscribeRequest
from optout.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def message_body(request: UnsubscribeRequest) -> str:
    body: dict[str, object] = {"subscriberIdString": request.subscriber}
    if request.business_unit_id is not None:
        body["businessUnitId"] = request.business_unit_id
    if request.idempotency_key is not None:
        body["idempotencyKey"] = request.idempotency_key
    return json.dumps(body, ensure_ascii=False)


class OptOutQueue:
    def __init__(self, queue_url: str, sqs: Callable[[], SQSClient]) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def send(self, request: UnsubscribeRequest) -> None:
        try:
            self._sqs().send_message(QueueUrl=self._queue_url, MessageBody=message_body(request))
        except (BotoCoreError, ClientError) as error:
            code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
            logger.error("could not queue a one-click opt-out", error=code or type(error).__name__)
            raise LinksUnavailableError("the queue cannot be reached now") from None
