"""Which subscribers a file has named already, and on which line: kept on disk, not in memory.

A list of 100,000 or 10 million addresses is read as a stream; the one thing that must be
remembered across the whole file is every subscriber seen so far, to send a repeat once. It is
kept in SQLite's private temporary database (the standard library's): pages beyond a small cache
(about 2 MB) go to a temporary file, which is deleted when the index is closed, so memory stays
flat however long the file. The key is exact (HubSpot's `subscriber_key`), never a hash that two
different addresses could share: a false repeat would be an opt-out never sent.
"""

from __future__ import annotations

import sqlite3
from types import TracebackType


class RepeatIndex:
    def __init__(self) -> None:
        # "" opens a private, temporary on-disk database: SQLite deletes it on close.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")  # nothing to roll back: the index dies with the run
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def first_line(self, key: str, line: int) -> int:
        """The line `key` was first seen on: `line` itself when this is the first time."""
        inserted = self._db.execute("INSERT INTO seen VALUES (?, ?) ON CONFLICT DO NOTHING", (key, line))
        if inserted.rowcount == 1:
            return line
        (first,) = self._db.execute("SELECT line FROM seen WHERE key = ?", (key,)).fetchone()
        return int(first)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RepeatIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
