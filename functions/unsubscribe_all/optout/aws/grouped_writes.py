"""Writes that arrive together go to DynamoDB together: unconditional puts, grouped into BatchWriteItem.

The records of an invocation finish together (a HubSpot batch answers them all at once), and each
then records its success. As separate requests, each pays a round trip and the client's own work
for a request (serialising, signing, sending: about a millisecond of CPU, more on a small Lambda).
Here a thread with an item to write either finds no write in flight and sends its item at once,
or joins the group that goes out as soon as the write in flight ends: one request for everything
that arrived meanwhile, up to DynamoDB's 25 items. Nothing waits for a group to fill.

Each caller returns once its own item is written, or raises why it was not: the request failed,
or DynamoDB left the item unprocessed through every retry.

Examples:
    >>> writes = GroupedWrites("table", dynamodb)  # doctest: +SKIP
    >>> writes.put({"id": {"S": "unsubscribe-all#..."}, "status": {"S": "COMPLETED"}})  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# DynamoDB's limit of items in one BatchWriteItem.
MAX_ITEMS_PER_REQUEST = 25
# Items DynamoDB leaves unprocessed (throttling) are sent again after these pauses, then failed.
UNPROCESSED_RETRY_DELAYS_S = (0.05, 0.1, 0.2)

Item = Mapping[str, Any]


class UnprocessedItemError(Exception):
    """DynamoDB left the item unprocessed through every retry (the table is throttled)."""


Key = tuple[tuple[str, str], ...]


@dataclass(eq=False)
class _Write:
    item: Item
    key: Key
    done: bool = False
    error: Exception | None = None


class GroupedWrites:
    def __init__(
        self,
        table_name: str,
        dynamodb: Callable[[], DynamoDBClient],
        key_attributes: Sequence[str] = ("id",),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table_name = table_name
        self._dynamodb = dynamodb
        self._key_attributes = tuple(key_attributes)
        self._sleep = sleep
        self._changed = threading.Condition()
        self._waiting: list[_Write] = []
        self._writing = False

    @property
    def waiting(self) -> int:
        """How many writes wait for the one in flight to end."""
        with self._changed:
            return len(self._waiting)

    def put(self, item: Item) -> None:
        """Writes the item (replacing any with its key); returns once it is written."""
        write = _Write(item, self._key_of(item))
        with self._changed:
            self._waiting.append(write)
            while not write.done:
                if self._writing:
                    self._changed.wait()
                    continue
                group = self._next_group()
                self._writing = True
                self._changed.release()
                try:
                    self._send(group)
                finally:
                    self._changed.acquire()
                    self._writing = False
                    for member in group:
                        member.done = True
                    self._changed.notify_all()
        if write.error is not None:
            raise write.error

    def _next_group(self) -> list[_Write]:
        """The oldest waiting writes, one per key (DynamoDB refuses a key twice in one request)."""
        group: list[_Write] = []
        keys: set[Key] = set()
        for write in list(self._waiting):
            if len(group) == MAX_ITEMS_PER_REQUEST:
                break
            if write.key not in keys:
                keys.add(write.key)
                group.append(write)
                self._waiting.remove(write)
        return group

    def _key_of(self, item: Item) -> Key:
        return tuple((name, repr(item[name])) for name in self._key_attributes)

    def _send(self, group: list[_Write]) -> None:
        left = group
        for delay in (*UNPROCESSED_RETRY_DELAYS_S, None):
            try:
                response = self._dynamodb().batch_write_item(
                    RequestItems={self._table_name: [{"PutRequest": {"Item": dict(w.item)}} for w in left]}
                )
            except Exception as error:
                for write in left:
                    write.error = error
                return
            unprocessed = response.get("UnprocessedItems", {}).get(self._table_name, [])
            unprocessed_keys = {self._key_of(request["PutRequest"]["Item"]) for request in unprocessed}
            left = [write for write in left if write.key in unprocessed_keys]
            if not left:
                return
            if delay is not None:
                self._sleep(delay)
        for write in left:
            write.error = UnprocessedItemError("DynamoDB left the write unprocessed (throttled)")
