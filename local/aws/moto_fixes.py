"""Five fixes to moto 5.2.5's in-process server, applied whenever the local AWS starts.

moto is the local stand-in for AWS, so where it breaks AWS's guarantees under concurrency (the
soak found these) it is mended for every run, tests included:

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
- KMS `Decrypt` with a `KeyId` other than the key that made the ciphertext (or one naming a key
  moto does not have) answers `AccessDeniedException`, where KMS answers `IncorrectKeyException`
  (its documented error for exactly that). The function tells a token made with another key (the
  token's fault) from a key it may not use (the stack's) by that code, so moto answers as KMS does.

The patches stay for the life of the process (moto's server runs in it); applying them twice is
harmless.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto import backends
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.dynamodb.models import DynamoDBBackend
from moto.kms.exceptions import AccessDeniedException
from moto.kms.models import KmsBackend
from moto.sqs.models import Queue, SQSBackend

DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


_APPLIED = threading.Lock()
_applied = False


def apply_moto_fixes() -> None:
    global _applied  # noqa: PLW0603 - moto's classes are process-wide, and so is this flag
    with _APPLIED:
        if _applied:
            return
        _applied = True
        modules = tuple(backends.list_of_moto_modules())
        delete_message = Queue.delete_message

        @functools.wraps(delete_message)
        def delete_under_lock(queue: Any, receipt_handle: str) -> None:
            with queue._messages_lock:
                delete_message(queue, receipt_handle)

        def within_retention(backend: Any, queue_name: str, message: Any) -> bool:
            retention_s = int(backend.get_queue(queue_name).message_retention_period)
            return bool(retention_s + message.sent_timestamp / 1000 > unix_time())

        setattr(backends, "list_of_moto_modules", lambda: modules)  # noqa: B010 - patching moto
        setattr(Queue, "delete_message", delete_under_lock)  # noqa: B010
        setattr(SQSBackend, "is_message_valid_based_on_retention_period", within_retention)  # noqa: B010
        for name in DYNAMODB_WRITES:
            setattr(DynamoDBBackend, name, _one_at_a_time(getattr(DynamoDBBackend, name)))
        setattr(KmsBackend, "decrypt", _incorrect_key_refused(KmsBackend.decrypt))  # noqa: B010


_WRITES = threading.Lock()


def _one_at_a_time(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return write(*args, **kwargs)

    return locked


class IncorrectKeyError(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "IncorrectKeyException",
            "The key ID in the request does not identify a CMK that can perform this operation.",
        )


def _incorrect_key_refused(decrypt: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(decrypt)
    def checked(
        backend: Any, ciphertext_blob: bytes, encryption_context: dict[str, str], key_id: str | None = None
    ) -> Any:
        try:
            plaintext, arn = decrypt(backend, ciphertext_blob, encryption_context)
        except AccessDeniedException:  # the ciphertext names a key moto does not have
            if key_id is None:
                raise
            raise IncorrectKeyError from None
        if key_id is not None and backend.any_id_to_key_id(key_id) != backend.any_id_to_key_id(arn):
            raise IncorrectKeyError
        return plaintext, arn

    return checked
