"""Each request identity done once: the idempotency store's interface, and its DynamoDB implementation.

The identity is the producer's idempotency key when given, else the delivery's own id (SQS
message id, API request id): never the subscriber, since a person who resubscribes and opts out
again must be unsubscribed again. A fingerprint of what is asked travels with it, so the same key
reused for another request is refused. Only successes are stored; work that raises deletes its
claim, so a retry does the work again.

A claim can also outlive its attempt: one that timed out, or that HubSpot answered while the store
was unreachable. Once its in-progress time has passed, the next attempt takes the key over, and
the work it is handed is told so, since HubSpot may already have done it.

Examples:
    >>> answer = store.once(Claim("key:k-1", fingerprint), work, deadline)  # doctest: +SKIP
    >>> match answer:  # doctest: +SKIP
    ...     case Fresh(done, recorded=True): ...  # work ran and its result is stored
    ...     case Replayed(record): ...  # done before: the stored record
    ...     case Refusal.IN_PROGRESS: ...  # another attempt holds the key now
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from optout.aws.call_budget import ATTEMPT_S, CallBudget
from optout.aws.grouped_writes import GroupedWrites
from optout.deadline import Deadline
from optout.observability import logger
from optout.outcomes import Rejected, RetryLater, Unsubscribed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

# Part of every stored key: renaming or moving code must not reset them.
KEY_PREFIX = "unsubscribe-all"
IN_PROGRESS = "INPROGRESS"
LATE_RECORD_FIRST_DELAY_S = 0.5


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's identity and a fingerprint of what it asks (not who asked)."""

    identity: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Fresh:
    """The work ran now. `recorded` is False when the store could not keep its result."""

    done: Unsubscribed
    recorded: bool = True


@dataclass(frozen=True, slots=True)
class Replayed:
    """The identity was done before; `record` is what the store kept (`Unsubscribed.to_record`)."""

    record: Mapping[str, Any]


class Refusal(StrEnum):
    """Why the work was not run."""

    IN_PROGRESS = "in_progress"  # another attempt holds the key now
    KEY_REUSED = "key_reused"  # the identity was used for another request
    STORE_UNAVAILABLE = "store_unavailable"  # the claim could not be written


StoreAnswer = Fresh | Replayed | Refusal
# `work(after_lost_attempt)`: True when the key was taken over from an attempt that never
# recorded how it ended. It returns what HubSpot holds, or raises NotDoneError.
Work = Callable[[bool], Unsubscribed]


class NotDoneError(Exception):
    """What `work` raises when the request is not done; the store gives its claim up.

    When HubSpot may have carried the write out unseen (`may_have_applied`), the claim is kept
    instead, expired at once: the next attempt on the identity takes it over, and is told so, so
    it reads HubSpot's status before writing again.
    """

    def __init__(self, outcome: RetryLater | Rejected) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome

    @property
    def may_have_applied(self) -> bool:
        return isinstance(self.outcome, RetryLater) and self.outcome.may_have_applied


class IdempotencyStore(Protocol):
    def once(self, claim: Claim, work: Work, deadline: Deadline) -> StoreAnswer:
        """Runs `work` unless the claim's identity is done or held; raises what `work` raises."""
        ...


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


class _ClaimKeepingPersistence(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB persistence, except that the claim of an attempt that may have reached
    HubSpot unseen is kept, expired at once, rather than deleted (see NotDoneError), and that the
    successes of records finishing together are written together (see GroupedWrites).

    A success replaces the record whole where Powertools would update it: the same attributes,
    without the in-progress expiry, which only an in-progress record is read for.
    """

    def __init__(self, table_name: str, boto3_client: DynamoDBClient) -> None:
        super().__init__(table_name=table_name, boto3_client=boto3_client)
        self._successes = GroupedWrites(table_name, lambda: self.client, tuple(self._get_key("")))

    def _update_record(self, data_record: DataRecord) -> None:
        item: dict[str, Any] = {
            **self._get_key(data_record.idempotency_key),
            self.expiry_attr: {"N": str(data_record.expiry_timestamp)},
            self.status_attr: {"S": data_record.status},
            self.data_attr: {"S": data_record.response_data},
        }
        if self.payload_validation_enabled:
            item[self.validation_key_attr] = {"S": data_record.payload_hash}
        self._successes.put(item)

    def delete_record(self, data: dict[str, Any], exception: Exception) -> None:
        if not (isinstance(exception, NotDoneError) and exception.may_have_applied):
            super().delete_record(data=data, exception=exception)
            return
        key = self._get_hashed_idempotency_key(data=data)
        if key is None:
            return
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={self.key_attr: {"S": key}},
                UpdateExpression="SET #expiry = :now",
                ConditionExpression="#status = :in_progress",
                ExpressionAttributeNames={
                    "#expiry": self.in_progress_expiry_attr,
                    "#status": self.status_attr,
                },
                ExpressionAttributeValues={
                    ":now": {"N": str(int(time.time() * 1000) - 1)},
                    ":in_progress": {"S": IN_PROGRESS},
                },
            )
        except Exception as error:
            # The claim then lasts until the invocation's end, and is taken over after that.
            logger.warning("could not expire a claim for takeover", error=type(error).__name__)


class DynamoDBIdempotencyStore:
    """Powertools idempotency on DynamoDB, its persistence layer built on first use."""

    def __init__(
        self,
        table_name: str,
        ttl_s: int,
        dynamodb: Callable[[], DynamoDBClient],
        budget: CallBudget | None = None,
    ) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._budget = budget or CallBudget()
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

    def prepare(self) -> None:
        """Builds the persistence layer and its DynamoDB client now, calling nothing."""
        self._guarded_function()

    def register_lambda_context(self, context: LambdaContext) -> None:
        """In-progress records then expire with the invocation, so a timed-out one is retried."""
        self.config.register_lambda_context(context)

    def once(self, claim: Claim, work: Work, deadline: Deadline) -> StoreAnswer:
        done: Unsubscribed | None = None

        def tracked_work() -> dict[str, Any]:
            nonlocal done
            done = work(self._takeovers.replaced_attempt)
            return done.to_record()

        self._takeovers.forget()
        try:
            with self._budget.until(deadline):
                record = self._guarded_function()(payload=_payload(claim), work=tracked_work)
        except IdempotencyValidationError:
            return Refusal.KEY_REUSED
        except IdempotencyAlreadyInProgressError:
            return Refusal.IN_PROGRESS
        except IdempotencyPersistenceLayerError:
            if done is None:
                return Refusal.STORE_UNAVAILABLE
            # HubSpot did it; only the record of it failed. Keep trying while there is time.
            return Fresh(done, recorded=self._record_late(claim, done, deadline))
        return Fresh(done) if done is not None else Replayed(record)

    def _record_late(self, claim: Claim, done: Unsubscribed, deadline: Deadline) -> bool:
        """Stores a success again after its first write failed (a store outage).

        If it never is, only a later duplicate of this identity would reach HubSpot again, and
        taking over the expired claim makes that one read HubSpot's status first. An attempt starts
        only while one can end before the deadline.
        """
        delay = LATE_RECORD_FIRST_DELAY_S
        failure = "no time left"
        while deadline.allows(ATTEMPT_S):
            try:
                with self._budget.until(deadline):
                    self._persistence_layer().save_success(data=_payload(claim), result=done.to_record())
            except Exception as error:
                failure = type(error).__name__
            else:
                return True
            if not deadline.allows(delay + ATTEMPT_S):
                break
            time.sleep(delay)
            delay *= 2
        logger.warning("unsubscribed but could not record it for idempotency", error=failure)
        return False

    def _persistence_layer(self) -> DynamoDBPersistenceLayer:
        with self._lock:
            if self._persistence is None:
                dynamodb = self._dynamodb()
                self._persistence = _ClaimKeepingPersistence(
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


def _payload(claim: Claim) -> dict[str, str]:
    return {"identity": claim.identity, "fingerprint": claim.fingerprint}
