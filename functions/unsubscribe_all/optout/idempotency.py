"""Powertools idempotency on DynamoDB, keyed on a request's identity, built on first use.

The identity is the producer's idempotency key when given, else the delivery's own id (SQS
message id, API request id): never the subscriber, since a person who resubscribes and opts out
again must be unsubscribed again. A digest of what is asked travels with it, so the same key
reused for another request is refused. Only successes are stored; an error deletes the
in-progress record, so a retry does the work again.
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
        self._guarded: Callable[..., dict[str, Any]] | None = None

    def register_lambda_context(self, context: LambdaContext) -> None:
        self.config.register_lambda_context(context)

    def run(
        self, identity: str, fingerprint: str, work: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        """`work()`'s result, or the stored one; the flag says whether it was replayed.

        Raises what `work` raises, and Powertools' Idempotency* errors.
        """
        worked = threading.Event()

        def tracked_work() -> dict[str, Any]:
            worked.set()
            return work()

        result = self._guarded_function()(
            payload={"identity": identity, "fingerprint": fingerprint}, work=tracked_work
        )
        return result, not worked.is_set()

    def save_success(self, identity: str, fingerprint: str, result: dict[str, Any]) -> None:
        """Stores a success again, after the first write of it failed."""
        self._persistence_layer().save_success(
            data={"identity": identity, "fingerprint": fingerprint}, result=result
        )

    def _persistence_layer(self) -> DynamoDBPersistenceLayer:
        with self._lock:
            if self._persistence is None:
                self._persistence = DynamoDBPersistenceLayer(
                    table_name=self._table_name, boto3_client=self._dynamodb()
                )
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
