"""Four fixes to moto 5.2.5's in-process server for the soak's load, applied while a soak runs.

- Its request dispatcher lists moto's package folder (some 200 `stat` calls) for every request,
  under one global lock: at a few hundred requests a second, that lock, not the function, sets
  the pace. The folder does not change while the process runs, so the list is read once.
- ReceiveMessage checks each message it returns against the queue's retention period by
  computing all the queue's attributes, which counts every message on the queue three times:
  receiving from a queue of n messages costs O(n) per message, and a 5,000-message soak spends
  minutes there. The retention period is read directly instead.
- `Queue.delete_message` rebuilds the queue's message list without the lock that
  `add_message` takes, so a message sent while another is being deleted can vanish. The soak
  sends while the event source deletes, and would count such a message as lost; the rebuild
  is done under the lock.
- DynamoDB's conditional writes check the condition and then write, with nothing between two
  threads: two concurrent `attribute_not_exists` puts of one key can both succeed (12 keys of 200
  with frequent thread switches), where DynamoDB lets exactly one. Idempotency rests on that,
  so the soak counted a key done twice; writes are made one at a time.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from moto import backends
from moto.core.utils import unix_time
from moto.dynamodb.models import DynamoDBBackend
from moto.sqs.models import Queue, SQSBackend

DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


@contextlib.contextmanager
def moto_fixed_for_load() -> Iterator[None]:
    modules = tuple(backends.list_of_moto_modules())
    delete_message = Queue.delete_message

    @functools.wraps(delete_message)
    def delete_under_lock(queue: Any, receipt_handle: str) -> None:
        with queue._messages_lock:
            delete_message(queue, receipt_handle)

    def within_retention(backend: Any, queue_name: str, message: Any) -> bool:
        retention_s = int(backend.get_queue(queue_name).message_retention_period)
        return bool(retention_s + message.sent_timestamp / 1000 > unix_time())

    with contextlib.ExitStack() as fixes:
        fixes.enter_context(mock.patch.object(backends, "list_of_moto_modules", return_value=modules))
        fixes.enter_context(mock.patch.object(Queue, "delete_message", delete_under_lock))
        fixes.enter_context(
            mock.patch.object(SQSBackend, "is_message_valid_based_on_retention_period", within_retention)
        )
        for name in DYNAMODB_WRITES:
            fixes.enter_context(
                mock.patch.object(DynamoDBBackend, name, _one_at_a_time(getattr(DynamoDBBackend, name)))
            )
        yield


_WRITES = threading.Lock()


def _one_at_a_time(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return write(*args, **kwargs)

    return locked
