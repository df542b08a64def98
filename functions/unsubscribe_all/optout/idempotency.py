"""Powertools idempotency on DynamoDB, keyed on a request's identity, built on first use.

The identity is the producer's idempotency key when given, else the delivery's own id (SQS
message id, API request id): never the subscriber, since a person who resubscribes and opts out
again must be unsubscribed again. A digest of what is asked travels with it, so the same key
reused for another request is refused. Only successes are stored; an error deletes the
in-progress record, so a retry does the work again.

An in-progress record can also outlive its attempt: one that timed out, or that HubSpot answered
while the store was unreachable. Once its in-progress time has passed, the next attempt takes
the key over; the work it is handed is told so, since HubSpot may already have done it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

# Part of every stored key: renaming or moving code must not reset them.
KEY_PREFIX = "unsubscribe-all"
IN_PROGRESS = "INPROGRESS"


class TakeoverWatch:
    """Notes, per thread, whether the record just saved replaced an in-progress one.

    Powertools saves the in-progress record with a conditional PutItem on the calling thread;
    asking DynamoDB for the item it replaced is the only way to see an expired attempt.
    """

    def __init__(self) -> None:
        self._status_attr = ""
        self._local = threading.local()

    def watch(self, dynamodb: DynamoDBClient, status_attr: str) -> None:
        self._status_attr = status_attr
        events = dynamodb.meta.events
        events.register("before-parameter-build.dynamodb.PutItem", self._ask_for_replaced_item)
        events.register("after-call.dynamodb.PutItem", self._note_replaced_item)

    def forget(self) -> None:
        self._local.replaced_attempt = False

    @property
    def replaced_attempt(self) -> bool:
        return bool(getattr(self._local, "replaced_attempt", False))

    def _ask_for_replaced_item(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnValues", "ALL_OLD")

    def _note_replaced_item(self, parsed: dict[str, Any], **_: Any) -> None:
        replaced = parsed.get("Attributes") or {}
        self._local.replaced_attempt = replaced.get(self._status_attr, {}).get("S") == IN_PROGRESS


class IdempotencyGuard:
    def __init__(self, table_name: str, ttl_s: int, dynamodb: Callable[[], DynamoDBClient]) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self.config = IdempotencyConfig(
            event_key_jmespath="identity",
            payload_validation_jmespath="fingerprint",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_s,
        )
        self._lock = threading.Lock()
        self._persistence: DynamoDBPersistenceLayer | None = None
        self._takeovers = TakeoverWatch()
        self._guarded: Callable[..., dict[str, Any]] | None = None

    def register_lambda_context(self, context: LambdaContext) -> None:
        self.config.register_lambda_context(context)

    def run(
        self, identity: str, fingerprint: str, work: Callable[[bool], dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        """`work(after_lost_attempt)`'s result, or the stored one; the flag says whether it was replayed.

        `after_lost_attempt` is True when the key was taken over from an earlier attempt that
        never recorded how it ended. Raises what `work` raises, and Powertools' Idempotency* errors.
        """
        worked = threading.Event()
        guarded = self._guarded_function()

        def tracked_work() -> dict[str, Any]:
            worked.set()
            return work(self._takeovers.replaced_attempt)

        self._takeovers.forget()
        result = guarded(payload={"identity": identity, "fingerprint": fingerprint}, work=tracked_work)
        return result, not worked.is_set()

    def save_success(self, identity: str, fingerprint: str, result: dict[str, Any]) -> None:
        """Stores a success again, after the first write of it failed."""
        self._persistence_layer().save_success(
            data={"identity": identity, "fingerprint": fingerprint}, result=result
        )

    def _persistence_layer(self) -> DynamoDBPersistenceLayer:
        with self._lock:
            if self._persistence is None:
                dynamodb = self._dynamodb()
                self._persistence = DynamoDBPersistenceLayer(
                    table_name=self._table_name, boto3_client=dynamodb
                )
                self._takeovers.watch(dynamodb, self._persistence.status_attr)
            return self._persistence

    def _guarded_function(self) -> Callable[..., dict[str, Any]]:
        persistence = self._persistence_layer()
        with self._lock:
            if self._guarded is None:

                def perform(payload: dict[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
                    return work()

                self._guarded = idempotent_function(
                    data_keyword_argument="payload",
                    persistence_store=persistence,
                    config=self.config,
                    key_prefix=KEY_PREFIX,
                )(perform)
            return self._guarded
