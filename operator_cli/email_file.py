"""A list of addresses to unsubscribe, read from a CSV or a text file and checked line by line.

- Text (one address a line): blank lines and `#` comments are skipped.
- CSV (a `.csv`/`.tsv` file, or any file read with `--column`): the delimiter is whichever of
  comma, semicolon and tab the first line holds most; the column is `--column NAME` (matched
  against the header, case-insensitively), `--column INDEX` (1 = the first column), or found:
  a header cell such as `email` or `E-mail Address`, else the first cell of the first row that
  is an address. A first row whose chosen cell is not an address but reads like a column name
  is the header, and is not an address to send.

Cells and lines are stripped of surrounding whitespace and checked with the function's own
`validate_email`. Line numbers are the file's physical lines (a quoted CSV cell can span
several; its record is numbered by its first line), so they match what an editor shows.
An address repeated (in any case) is sent once, from its first line.

The file is read as a stream, line by line: only the current CSV record and the index of the
subscribers seen so far (repeats.py, on disk) are held, so memory stays flat however long it is.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath

from operator_cli.errors import UsageError
from operator_cli.repeats import RepeatIndex
from optout.domain.addresses import InvalidEmailError, validate_email
from optout.hubspot.subscribers import subscriber_key
from optout.masking import mask_email
from optout.whole_numbers import whole_number

MAX_COLUMN = 10_000
_CSV_SUFFIXES = {".csv": None, ".tsv": "\t"}
_DELIMITERS = (",", ";", "\t")
# Header cells naming the address column, compared without case, spaces, dashes or underscores.
EMAIL_HEADERS = ("email", "emailaddress", "mail", "subscriberidstring", "subscriber", "address")
_HEADER_LIKE = re.compile(r"[^\W\d][\w .()/-]*")
_HEADER_NOISE = re.compile(r"[\s_\-.]")


class FileFormat(StrEnum):
    AUTO = "auto"
    CSV = "csv"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Address:
    line: int
    email: str


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    reason: str
    value: str  # the cell (or line) as read, stripped
    original: str  # the line(s) as they stand in the file, for the .rejected.csv


@dataclass(frozen=True, slots=True)
class DuplicateLine:
    line: int
    first_line: int


@dataclass
class EmailList:
    """A whole file's reading, gathered in memory: for small inputs (and tests). `enqueue` streams."""

    addresses: list[Address] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    duplicates: list[DuplicateLine] = field(default_factory=list)
    header_line: int | None = None
    column: str | None = None  # which column was read, as the operator would name it


Line = Address | RejectedLine | DuplicateLine


def _physical_lines(source: Iterable[bytes], name: str) -> Iterator[str]:
    """The file's lines, decoded one by one (UTF-8, a leading byte order mark dropped), endings kept.

    A line that is not UTF-8 is a usage error naming its number (counted in newlines).
    """
    for number, raw in enumerate(source, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise UsageError(
                f"{name} is not UTF-8 text (line {number}): save it as UTF-8 (Excel: 'CSV UTF-8')"
            ) from None


def _is_csv(name: str, file_format: FileFormat, column: str | None) -> bool:
    if file_format is not FileFormat.AUTO:
        return file_format is FileFormat.CSV
    return column is not None or PurePath(name).suffix.lower() in _CSV_SUFFIXES


class _Seen:
    """The first line of each subscriber, for repeats: the caller's index, else one of its own."""

    def __init__(self, repeats: RepeatIndex | None) -> None:
        self._index = repeats
        self._first: dict[str, int] = {}

    def first_line(self, email: str, line: int) -> int:
        key = subscriber_key(email)
        if self._index is not None:
            return self._index.first_line(key, line)
        return self._first.setdefault(key, line)


def _checked(line: int, value: str, original: str, seen: _Seen) -> Line:
    try:
        email = validate_email(value)
    except InvalidEmailError as error:
        return RejectedLine(line, str(error), value, original)
    # A repeat only when HubSpot would hold both lines as one subscriber.
    first = seen.first_line(email, line)
    return Address(line, email) if first == line else DuplicateLine(line, first)


def _text_lines(lines: Iterable[str], seen: _Seen) -> Iterator[Line]:
    for number, raw in enumerate(lines, start=1):
        line = raw.removesuffix("\n").rstrip("\r")
        value = line.strip()
        if value and not value.startswith("#"):
            yield _checked(number, value, line, seen)


class _LineTap:
    """Hands lines to csv.reader and keeps the ones the current record used.

    Lines are split as a text file opened with newline="" splits them (at a newline, a carriage
    return and newline, or a lone carriage return), so a record's line numbers are what an editor
    shows.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = (part for line in lines for part in io.StringIO(line, newline=""))
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line


def _csv_records(lines: Iterable[str], delimiter: str, name: str) -> Iterator[tuple[int, list[str], str]]:
    """(first line number, cells stripped, original text) for every record that is not blank."""
    tap = _LineTap(lines)
    reader = csv.reader(tap, delimiter=delimiter)
    number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UsageError(f"{name} line {number + len(tap.taken) - 1}: unreadable CSV ({error})") from None
        original = "".join(tap.taken).rstrip("\r\n")
        cells = [cell.strip() for cell in row]
        if any(cells):
            yield number, cells, original
        number += len(tap.taken)
        tap.taken.clear()


def _delimiter(first_line: str, name: str) -> str:
    suffix_delimiter = _CSV_SUFFIXES.get(PurePath(name).suffix.lower())
    if suffix_delimiter is not None:
        return suffix_delimiter
    counts = {delimiter: first_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _header_key(cell: str) -> str:
    return _HEADER_NOISE.sub("", cell.casefold())


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except InvalidEmailError:
        return False
    return True


def _looks_like_header(cell: str) -> bool:
    return "@" not in cell and bool(_HEADER_LIKE.fullmatch(cell))


def _shown(row: list[str]) -> str:
    """A row for an error message: any cell with an @ masked, even one that is not an address."""
    return ", ".join(mask_email(cell) if "@" in cell else cell for cell in row)


def _choose_column(first_row: list[str], column: str | None) -> tuple[int, bool]:
    """(index of the address column, whether the first row is a header)."""
    if column is not None and column.strip().isascii() and column.strip().isdigit():
        number = whole_number(column.strip(), maximum=MAX_COLUMN)
        if number is None or number < 1:
            raise UsageError(f"--column INDEX counts from 1 (the first column) to {MAX_COLUMN}")
        index = number - 1
        cell = first_row[index] if index < len(first_row) else ""
        return index, not _is_email(cell) and _looks_like_header(cell)
    if column is not None:
        wanted = column.strip().casefold()
        for index, cell in enumerate(first_row):
            if cell.casefold() == wanted:
                return index, True
        raise UsageError(
            f"no column named {column!r} in the first row ({_shown(first_row)}); try --column INDEX"
        )
    keys = [_header_key(cell) for cell in first_row]
    for header in EMAIL_HEADERS:
        if header in keys:
            return keys.index(header), True
    for index, cell in enumerate(first_row):
        if _is_email(cell):
            return index, False
    if len(first_row) == 1:
        return 0, _looks_like_header(first_row[0])
    raise UsageError(
        f"cannot tell which column holds the addresses (first row: {_shown(first_row)}): "
        "pass --column NAME or INDEX"
    )


def _column_name(index: int, first_row: list[str], has_header: bool) -> str:
    return f"column {index + 1}" + (f" ({first_row[index]})" if has_header else "")


@dataclass
class EmailStream:
    """A file being read: how (column, header line) is known at once, the lines as they are read."""

    lines: Iterator[Line]
    header_line: int | None = None
    column: str | None = None  # which column is read, as the operator would name it


def _csv_stream(lines: Iterator[str], name: str, column: str | None, seen: _Seen) -> EmailStream:
    # The delimiter comes from the first line holding anything; the lines read to find it are kept.
    looked_at: list[str] = []
    for line in lines:
        looked_at.append(line)
        if line.strip():
            break
    first_line = looked_at[-1] if looked_at else ""
    records = _csv_records(itertools.chain(looked_at, lines), _delimiter(first_line, name), name)
    first = next(records, None)
    if first is None:
        return EmailStream(iter(()))
    first_number, first_row, _ = first
    index, has_header = _choose_column(first_row, column)
    if not has_header:
        records = itertools.chain([first], records)

    def checked() -> Iterator[Line]:
        for line, cells, original in records:
            if index >= len(cells):
                yield RejectedLine(line, f"the row has no column {index + 1}", "", original)
            else:
                yield _checked(line, cells[index], original, seen)

    return EmailStream(
        checked(), first_number if has_header else None, _column_name(index, first_row, has_header)
    )


def read_email_file(
    name: str,
    source: Iterable[bytes],
    *,
    column: str | None = None,
    file_format: FileFormat = FileFormat.AUTO,
    repeats: RepeatIndex | None = None,
) -> EmailStream:
    """The addresses of the file `name`, whose lines `source` yields (a file opened in binary
    mode), read as they are needed: each an `Address`, a `RejectedLine` saying why, or a
    `DuplicateLine` naming its first line. `repeats` remembers the subscribers seen (on disk, for a
    long file); without it, a dictionary does. The CSV column is chosen on the first record, here."""
    lines = _physical_lines(source, name)
    seen = _Seen(repeats)
    if _is_csv(name, file_format, column):
        return _csv_stream(lines, name, column, seen)
    return EmailStream(_text_lines(lines, seen))


def parse_email_file(
    name: str, data: bytes, *, column: str | None = None, file_format: FileFormat = FileFormat.AUTO
) -> EmailList:
    """The addresses in `data` (the file `name`), with every line that is not one and why."""
    stream = read_email_file(name, io.BytesIO(data), column=column, file_format=file_format)
    result = EmailList(header_line=stream.header_line, column=stream.column)
    for line in stream.lines:
        if isinstance(line, Address):
            result.addresses.append(line)
        elif isinstance(line, RejectedLine):
            result.rejected.append(line)
        else:
            result.duplicates.append(line)
    return result
