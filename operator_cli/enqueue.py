"""Sends a file's addresses to the queue, ten a call, resumably, reading the file as a stream.

Every message is `{"subscriberIdString", "idempotencyKey"[, "businessUnitId"]}` with the key
`<first 16 hex of the file's sha256>:<line>` (`<...>:bu<N>:<line>` for business unit N, so one
file can be sent for several business units): a message sent twice (a crash between SQS's
acknowledgement and the checkpoint) is run once by the function, whose idempotency store
deduplicates on that key.

The file is read twice, both times as a stream: once for its digest (the keys need it before the
first message) and its line count, then line by line as the batches go out. Only the batch in
hand, the first rejected and repeated lines to show, and the index of subscribers seen (on disk,
repeats.py) are held, so memory stays flat however long the file. The checkpoint (checkpoint.py)
records the last line SQS acknowledged: written at most every CHECKPOINT_INTERVAL_S as batches
are acknowledged, and always when the run ends, fails or is interrupted. Only a run killed
outright sends its last half second of batches again, which their keys make harmless.

A checkpoint is refused, rather than trusted, when the file changed (its keys would differ), was
sent to another queue or for another business unit (--restart starts that run afresh). The same
file is never read from another column: the same key for another request would be refused by the
function as IDEMPOTENCY_KEY_REUSED. A dry run reads and checks everything, sends nothing and
leaves the checkpoint as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from operator_cli import checkpoint
from operator_cli.batch_sender import BATCH_LIMIT, BatchSender, Message, SendFailedError
from operator_cli.checkpoint import Checkpoint
from operator_cli.email_file import (
    Address,
    DuplicateLine,
    EmailStream,
    FileFormat,
    RejectedLine,
    read_email_file,
)
from operator_cli.errors import OperationError, UsageError
from operator_cli.progress import Progress
from operator_cli.rejected_file import RejectedFile
from operator_cli.repeats import RepeatIndex

KEY_DIGEST_CHARS = 16
CHUNK_BYTES = 1024 * 1024
# How often, at most, the checkpoint is rewritten while batches go out (each rewrite is an fsync).
CHECKPOINT_INTERVAL_S = 0.5
# Rejected and repeated lines kept to show (all rejected lines go to FILE.rejected.csv).
SHOWN_LINES = 20


@dataclass(frozen=True)
class EnqueueOptions:
    path: Path
    queue_url: str | None  # None only for a dry run, which reaches no queue
    column: str | None = None
    business_unit_id: int | None = None
    restart: bool = False
    file_format: FileFormat = FileFormat.AUTO
    dry_run: bool = False
    shown: int = SHOWN_LINES


@dataclass
class EnqueueResult:
    checkpoint: Checkpoint | None  # None for a dry run without one
    dry_run: bool = False
    lines: int = 0  # the file's lines
    to_send: int = 0  # addresses this run sends (a dry run: would send)
    sent: int = 0
    already_sent: int = 0  # acknowledged by an earlier run, skipped by this one
    finished_before: bool = False  # an earlier run sent the whole file: nothing was read or sent
    rejected: list[RejectedLine] = field(default_factory=list)  # the first `shown`
    rejected_count: int = 0
    duplicates: list[DuplicateLine] = field(default_factory=list)  # the first `shown`
    duplicate_count: int = 0
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


@dataclass(frozen=True)
class FileScan:
    sha256: str
    lines: int


def scan(path: Path) -> FileScan:
    """The file's digest and line count, read in chunks."""
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    return FileScan(digest.hexdigest(), lines + (last != b"\n"))


def _unit(business_unit_id: int | None) -> str:
    return "the default business unit" if business_unit_id is None else f"business unit {business_unit_id}"


def _reading(stream: EmailStream) -> str:
    return stream.column or "one address a line"


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
    if options.queue_url is not None and previous.queue_url != options.queue_url:
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
    if options.queue_url is None:
        raise ValueError("a run that sends needs a queue URL")
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


class _Tally:
    """Counts what the file holds, keeping the first few rejected and repeated lines to show."""

    def __init__(self, result: EnqueueResult, shown: int, rejected_file: RejectedFile) -> None:
        self._result = result
        self._shown = max(shown, 0)
        self._rejected_file = rejected_file

    def rejected(self, line: RejectedLine) -> None:
        self._rejected_file.add(line)
        self._result.rejected_count += 1
        if len(self._result.rejected) < self._shown:
            self._result.rejected.append(line)

    def repeated(self, line: DuplicateLine) -> None:
        self._result.duplicate_count += 1
        if len(self._result.duplicates) < self._shown:
            self._result.duplicates.append(line)


class _Checkpoints:
    """The run's checkpoint: advanced as SQS acknowledges, written at most every interval."""

    def __init__(self, path: Path, state: Checkpoint, clock: Callable[[], float], interval_s: float) -> None:
        self.path = path
        self.state = state
        self._clock = clock
        self._interval_s = interval_s
        self._saved = state
        self._saved_at = clock()
        checkpoint.save(path, state)

    def advance(self, last_line: int, messages: int) -> None:
        self.state = self.state.advanced(last_line, messages)
        if self._clock() - self._saved_at >= self._interval_s:
            self.save()

    def complete(self) -> None:
        self.state = self.state.completed()
        self.save()

    def save(self) -> None:
        if self.state != self._saved:
            checkpoint.save(self.path, self.state)
            self._saved, self._saved_at = self.state, self._clock()


@dataclass
class _Run:
    """One pass over the file: what each line is, and (unless a dry run) the batches it sends."""

    options: EnqueueOptions
    sha256: str
    stream: EmailStream
    result: EnqueueResult
    tally: _Tally
    progress: Progress
    last_sent_line: int

    def count(self) -> None:
        """A dry run: every address after the checkpoint is one that would be sent."""
        for address in self._addresses():
            if address.line > self.last_sent_line:
                self.result.to_send += 1
            else:
                self.result.already_sent += 1

    def send(
        self,
        sender: BatchSender,
        checkpoints: _Checkpoints,
        on_acknowledged: Callable[[Sequence[Address]], None] | None,
    ) -> None:
        batch: list[Address] = []
        for address in self._addresses():
            if address.line <= self.last_sent_line:
                self.result.already_sent += 1
                continue
            self.result.to_send += 1
            batch.append(address)
            if len(batch) == BATCH_LIMIT:
                self._send_batch(batch, sender, checkpoints, on_acknowledged)
                batch = []
        if batch:
            self._send_batch(batch, sender, checkpoints, on_acknowledged)
        checkpoints.complete()

    def _addresses(self) -> Iterator[Address]:
        """The file's addresses; rejected and repeated lines are tallied on the way."""
        for line in self.stream.lines:
            self.progress.advance_to(line.line)
            if isinstance(line, Address):
                yield line
            elif isinstance(line, RejectedLine):
                self.tally.rejected(line)
            else:
                self.tally.repeated(line)
        self.progress.advance_to(self.result.lines)

    def _send_batch(
        self,
        batch: list[Address],
        sender: BatchSender,
        checkpoints: _Checkpoints,
        on_acknowledged: Callable[[Sequence[Address]], None] | None,
    ) -> None:
        unit = self.options.business_unit_id
        messages = [
            Message(f"line-{address.line}", message_body(address, self.sha256, unit)) for address in batch
        ]
        try:
            sender.send(messages)
        except SendFailedError as error:
            if error.acknowledged:
                checkpoints.advance(batch[error.acknowledged - 1].line, error.acknowledged)
                self.result.sent += error.acknowledged
            raise OperationError(
                f"{error}. Sent {self.result.sent} message(s) in this run, every address up to line "
                f"{checkpoints.state.last_line}; {checkpoints.path} records it: run the same command "
                "again to continue from there"
            ) from error
        if on_acknowledged is not None:
            on_acknowledged(batch)
        checkpoints.advance(batch[-1].line, len(batch))
        self.result.sent += len(batch)


def enqueue_file(
    options: EnqueueOptions,
    sender: BatchSender | None,
    progress_stream: TextIO,
    *,
    interactive: bool | None = None,
    on_acknowledged: Callable[[Sequence[Address]], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
) -> EnqueueResult:
    """Sends what the checkpoint says is not yet sent (a dry run counts it, and needs no sender).
    `on_acknowledged` runs after SQS took a batch and before the checkpoint records it (where a
    crash makes a re-run send it again)."""
    if sender is None and not options.dry_run:
        raise ValueError("a run that sends needs a sender")
    file = scan(options.path)
    checkpoint_path = checkpoint.path_for(options.path)
    with options.path.open("rb") as source, RepeatIndex() as repeats:
        stream = read_email_file(
            options.path.name, source, column=options.column, file_format=options.file_format, repeats=repeats
        )
        previous = _previous(options, file.sha256, _reading(stream), checkpoint_path)
        if previous is not None and previous.complete:
            return EnqueueResult(
                previous,
                options.dry_run,
                file.lines,
                already_sent=previous.messages_sent,
                finished_before=True,
            )
        result = EnqueueResult(
            previous, options.dry_run, file.lines, column=stream.column, header_line=stream.header_line
        )
        progress = Progress(
            file.lines, f"enqueue {options.path.name}", progress_stream, interactive=interactive, unit="lines"
        )
        with RejectedFile(options.path) as rejected_file, contextlib.closing(progress):
            run = _Run(
                options,
                file.sha256,
                stream,
                result,
                _Tally(result, options.shown, rejected_file),
                progress,
                previous.last_line if previous is not None else 0,
            )
            if options.dry_run or sender is None:
                run.count()
            else:
                state = previous or _new_checkpoint(options, file.sha256, _reading(stream))
                checkpoints = _Checkpoints(checkpoint_path, state, clock, checkpoint_interval_s)
                try:
                    run.send(sender, checkpoints, on_acknowledged)
                finally:
                    checkpoints.save()  # however the run ends: sent, failed or interrupted
                    result.checkpoint = checkpoints.state
        result.rejected_path = rejected_file.path if rejected_file.count else None
    return result
