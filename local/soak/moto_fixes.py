"""Three fixes to moto 5.2.5's in-process server for the soak's load, applied while a soak runs.

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
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any
from unittest import mock

from moto import backends
from moto.core.utils import unix_time
from moto.sqs.models import Queue, SQSBackend


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

    with (
        mock.patch.object(backends, "list_of_moto_modules", return_value=modules),
        mock.patch.object(Queue, "delete_message", delete_under_lock),
        mock.patch.object(SQSBackend, "is_message_valid_based_on_retention_period", within_retention),
    ):
        yield
