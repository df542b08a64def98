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
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath

from operator_cli.errors import UsageError
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
    addresses: list[Address] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    duplicates: list[DuplicateLine] = field(default_factory=list)
    header_line: int | None = None
    column: str | None = None  # which column was read, as the operator would name it

    def add(self, line: int, value: str, original: str, seen: dict[str, int]) -> None:
        try:
            email = validate_email(value)
        except InvalidEmailError as error:
            self.rejected.append(RejectedLine(line, str(error), value, original))
            return
        # A repeat only when HubSpot would hold both lines as one subscriber.
        first = seen.setdefault(subscriber_key(email), line)
        if first != line:
            self.duplicates.append(DuplicateLine(line, first))
            return
        self.addresses.append(Address(line, email))


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UsageError(
            f"{name} is not UTF-8 text (line {line}): save it as UTF-8 (Excel: 'CSV UTF-8')"
        ) from None


def _is_csv(name: str, file_format: FileFormat, column: str | None) -> bool:
    if file_format is not FileFormat.AUTO:
        return file_format is FileFormat.CSV
    return column is not None or PurePath(name).suffix.lower() in _CSV_SUFFIXES


def _read_text(text: str, result: EmailList) -> None:
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        value = line.strip()
        if value and not value.startswith("#"):
            result.add(number, value, line, seen)


class _LineTap:
    """Hands lines to csv.reader and keeps the ones the current record used."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line


def _csv_records(text: str, delimiter: str, name: str) -> Iterator[tuple[int, list[str], str]]:
    """(first line number, cells stripped, original text) for every record that is not blank."""
    tap = _LineTap(text)
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


def _delimiter(text: str, name: str) -> str:
    suffix_delimiter = _CSV_SUFFIXES.get(PurePath(name).suffix.lower())
    if suffix_delimiter is not None:
        return suffix_delimiter
    first_line = next((line for line in text.splitlines() if line.strip()), "")
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


def _read_csv(text: str, name: str, column: str | None, result: EmailList) -> None:
    records = _csv_records(text, _delimiter(text, name), name)
    first = next(records, None)
    if first is None:
        return
    first_line, first_row, _ = first
    index, has_header = _choose_column(first_row, column)
    result.column = _column_name(index, first_row, has_header)
    seen: dict[str, int] = {}
    if has_header:
        result.header_line = first_line
    else:
        records = itertools.chain([first], records)
    for line, cells, original in records:
        if index >= len(cells):
            result.rejected.append(RejectedLine(line, f"the row has no column {index + 1}", "", original))
            continue
        result.add(line, cells[index], original, seen)


def parse_email_file(
    name: str, data: bytes, *, column: str | None = None, file_format: FileFormat = FileFormat.AUTO
) -> EmailList:
    """The addresses in `data` (the file `name`), with every line that is not one and why."""
    text = _decode(data, name)
    result = EmailList()
    if _is_csv(name, file_format, column):
        _read_csv(text, name, column, result)
    else:
        _read_text(text, result)
    return result
