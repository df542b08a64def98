"""How far an enqueue got, kept beside its input as `FILE.checkpoint.json` (gitignored).

Written after every batch SQS acknowledged, atomically (a temporary file renamed over the old
one, after fsync), so a crash leaves either the previous or the new checkpoint, never half of
one. `last_line` is the line of the last address acknowledged: every address on a line up to
it is on the queue; batches go in file order, so the acknowledged part is always a prefix.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operator_cli.errors import UsageError

SUFFIX = ".checkpoint.json"
FORMAT_VERSION = 1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Checkpoint:
    file: str
    sha256: str
    queue_url: str
    business_unit_id: int | None
    reading: str = ""  # how the file was read (which CSV column), for the same keys to mean the same
    last_line: int = 0
    messages_sent: int = 0
    complete: bool = False
    started_at: str = ""
    updated_at: str = ""

    def advanced(self, last_line: int, messages: int) -> Checkpoint:
        return replace(
            self, last_line=last_line, messages_sent=self.messages_sent + messages, updated_at=now_iso()
        )

    def completed(self) -> Checkpoint:
        return replace(self, complete=True, updated_at=now_iso())


def path_for(input_path: Path) -> Path:
    return input_path.with_name(input_path.name + SUFFIX)


_FIELDS = {
    "file": str,
    "sha256": str,
    "queue_url": str,
    "reading": str,
    "last_line": int,
    "messages_sent": int,
    "complete": bool,
    "started_at": str,
    "updated_at": str,
}


def _from_json(data: Any) -> Checkpoint:
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a checkpoint of this version")
    for name, kind in _FIELDS.items():
        if type(data.get(name)) is not kind:
            raise ValueError(f"{name} is missing or of the wrong type")
    business_unit = data.get("business_unit_id")
    if business_unit is not None and type(business_unit) is not int:
        raise ValueError("business_unit_id is of the wrong type")
    return Checkpoint(business_unit_id=business_unit, **{name: data[name] for name in _FIELDS})


def load(path: Path) -> Checkpoint | None:
    """The checkpoint at `path`, or None when there is none; UsageError when it is unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(f"cannot read the checkpoint {path}: {error.strerror}") from None
    try:
        return _from_json(json.loads(text))
    except ValueError as error:
        raise UsageError(
            f"the checkpoint {path} is damaged ({error}); pass --restart to send the whole file again"
        ) from None


def save(path: Path, checkpoint: Checkpoint) -> None:
    """Replaces the checkpoint at `path` in one step."""
    text = json.dumps({"version": FORMAT_VERSION, **asdict(checkpoint)}, indent=2) + "\n"
    descriptor, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
