"""Sends a file's addresses to the queue, ten a call, resumably.

Every message is `{"subscriberIdString", "idempotencyKey"[, "businessUnitId"]}` with the key
`<first 16 hex of the file's sha256>:<line>` (`<...>:bu<N>:<line>` for business unit N, so one
file can be sent for several business units): a message sent twice (a crash between SQS's
acknowledgement and the checkpoint) is run once by the function, whose idempotency store
deduplicates on that key. The checkpoint (see checkpoint.py) is written after every
acknowledged batch, so a re-run continues after the last line SQS took.

A checkpoint is refused, rather than trusted, when the file changed (its keys would differ), was
sent to another queue or for another business unit (--restart starts that run afresh). The same
file is never read from another column: the same key for another request would be refused by the
function as IDEMPOTENCY_KEY_REUSED.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from operator_cli import checkpoint, rejected_file
from operator_cli.batch_sender import BATCH_LIMIT, BatchSender, Message, SendFailedError
from operator_cli.checkpoint import Checkpoint
from operator_cli.email_file import (
    Address,
    DuplicateLine,
    EmailList,
    FileFormat,
    RejectedLine,
    parse_email_file,
)
from operator_cli.errors import OperationError, UsageError
from operator_cli.progress import Progress

KEY_DIGEST_CHARS = 16


@dataclass(frozen=True)
class EnqueueOptions:
    path: Path
    queue_url: str
    column: str | None = None
    business_unit_id: int | None = None
    restart: bool = False
    file_format: FileFormat = FileFormat.AUTO


@dataclass
class EnqueueResult:
    checkpoint: Checkpoint
    sent: int = 0
    already_sent: int = 0  # acknowledged by an earlier run, skipped by this one
    finished_before: bool = False  # an earlier run sent the whole file: nothing was read or sent
    rejected: list[RejectedLine] = field(default_factory=list)
    duplicates: list[DuplicateLine] = field(default_factory=list)
    rejected_path: Path | None = None
    column: str | None = None
    header_line: int | None = None


def idempotency_key(sha256: str, line: int, business_unit_id: int | None) -> str:
    unit = "" if business_unit_id is None else f"bu{business_unit_id}:"
    return f"{sha256[:KEY_DIGEST_CHARS]}:{unit}{line}"


def message_body(address: Address, sha256: str, business_unit_id: int | None) -> str:
    body: dict[str, object] = {
        "subscriberIdString": address.email,
        "idempotencyKey": idempotency_key(sha256, address.line, business_unit_id),
    }
    if business_unit_id is not None:
        body["businessUnitId"] = business_unit_id
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def _unit(business_unit_id: int | None) -> str:
    return "the default business unit" if business_unit_id is None else f"business unit {business_unit_id}"


def _reading(parsed: EmailList) -> str:
    return parsed.column or "one address a line"


def _same_keys_other_request(options: EnqueueOptions, previous: Checkpoint, reading: str) -> str | None:
    """Why sending this file again would give its keys to other requests, if it would."""
    if previous.reading != reading:
        return f"reading {previous.reading}, not {reading}"
    return None


def _previous(options: EnqueueOptions, sha256: str, reading: str, checkpoint_path: Path) -> Checkpoint | None:
    """The checkpoint to resume from, None to start afresh; UsageError when it must not be used."""
    try:
        previous = checkpoint.load(checkpoint_path)
    except UsageError:
        if options.restart:
            return None
        raise
    if previous is None:
        return None
    clash = _same_keys_other_request(options, previous, reading) if previous.sha256 == sha256 else None
    if clash is not None:
        raise UsageError(
            f"{options.path} was enqueued {clash}. Its lines' idempotency keys are taken: the "
            "function would refuse the same keys for other requests (IDEMPOTENCY_KEY_REUSED). "
            "Enqueue a copy with any change (a blank line at the end, say) to send it this way"
        )
    if options.restart:
        return None
    if previous.sha256 != sha256:
        raise UsageError(
            f"{options.path} has changed since it was enqueued (see {checkpoint_path}). "
            "Pass --restart to send the whole file again: its lines get new idempotency keys, so "
            "addresses already sent are sent, and cost a HubSpot call, again"
        )
    if previous.queue_url != options.queue_url:
        raise UsageError(
            f"{options.path} was enqueued to {previous.queue_url}, not {options.queue_url}; "
            "pass --restart to send the whole file to this queue"
        )
    if previous.business_unit_id != options.business_unit_id:
        raise UsageError(
            f"{options.path} was enqueued for {_unit(previous.business_unit_id)}; pass --restart "
            f"to send it for {_unit(options.business_unit_id)} too (its messages get that unit's keys)"
        )
    return previous


def _new_checkpoint(options: EnqueueOptions, sha256: str, reading: str) -> Checkpoint:
    started = checkpoint.now_iso()
    return Checkpoint(
        file=options.path.name,
        sha256=sha256,
        queue_url=options.queue_url,
        business_unit_id=options.business_unit_id,
        reading=reading,
        started_at=started,
        updated_at=started,
    )


def enqueue_file(
    options: EnqueueOptions,
    sender: BatchSender,
    progress_stream: TextIO,
    *,
    interactive: bool | None = None,
    on_acknowledged: Callable[[Sequence[Address]], None] | None = None,
) -> EnqueueResult:
    """Sends what the checkpoint says is not yet sent. `on_acknowledged` runs after SQS took a
    batch and before the checkpoint records it (where a crash makes a re-run send it again)."""
    data = _read(options.path)
    sha256 = hashlib.sha256(data).hexdigest()
    checkpoint_path = checkpoint.path_for(options.path)
    parsed = parse_email_file(options.path.name, data, column=options.column, file_format=options.file_format)
    previous = _previous(options, sha256, _reading(parsed), checkpoint_path)
    if previous is not None and previous.complete:
        return EnqueueResult(previous, already_sent=previous.messages_sent, finished_before=True)
    state = previous or _new_checkpoint(options, sha256, _reading(parsed))
    checkpoint.save(checkpoint_path, state)
    pending = [address for address in parsed.addresses if address.line > state.last_line]
    result = EnqueueResult(
        state,
        already_sent=len(parsed.addresses) - len(pending),
        rejected=parsed.rejected,
        duplicates=parsed.duplicates,
        rejected_path=rejected_file.write(options.path, parsed.rejected),
        column=parsed.column,
        header_line=parsed.header_line,
    )
    progress = Progress(
        len(pending), f"enqueue {options.path.name}", progress_stream, interactive=interactive
    )
    try:
        for start in range(0, len(pending), BATCH_LIMIT):
            batch = pending[start : start + BATCH_LIMIT]
            messages = [
                Message(f"line-{address.line}", message_body(address, sha256, options.business_unit_id))
                for address in batch
            ]
            try:
                sender.send(messages)
            except SendFailedError as error:
                if error.acknowledged:
                    state = state.advanced(batch[error.acknowledged - 1].line, error.acknowledged)
                    checkpoint.save(checkpoint_path, state)
                    result.sent += error.acknowledged
                raise OperationError(
                    f"{error}. Sent {result.sent} message(s) in this run, every address up to line "
                    f"{state.last_line}; {checkpoint_path} records it: run the same command again "
                    "to continue from there"
                ) from error
            if on_acknowledged is not None:
                on_acknowledged(batch)
            state = state.advanced(batch[-1].line, len(batch))
            checkpoint.save(checkpoint_path, state)
            result.sent += len(batch)
            progress.advance(len(batch))
        state = state.completed()
        checkpoint.save(checkpoint_path, state)
    finally:
        progress.close()
    result.checkpoint = state
    return result
