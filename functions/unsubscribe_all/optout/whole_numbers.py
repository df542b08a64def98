"""Whole numbers written as text by someone else: a query string, a header, a setting, a command line.

Only ASCII digits count (`str.isdigit` also takes `²` and `٣`), and the length is checked before
converting: `int()` refuses more than 4,300 digits with a ValueError and slows down long before,
so a huge number is refused as too large like any other, never raised from deep inside.

Examples:
    >>> whole_number("0042", maximum=100)
    42
    >>> whole_number("9" * 5000, maximum=100) is None
    True
    >>> whole_number("²", maximum=100) is None
    True
"""

from __future__ import annotations


def whole_number(text: str, *, maximum: int) -> int | None:
    """`text` as a number from 0 to `maximum`, or None if it is not one."""
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    number = int(significant)
    return number if number <= maximum else None
