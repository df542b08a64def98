"""Producers' text made safe to show: one printable line, whatever it held.

Key names, details and bodies come from producers. Written out as they are, a newline forges a
line in a listing, a bidi override reorders what an operator reads, and a NUL or a lone
surrogate is refused by SQS (a message attribute must hold only XML's characters). Every
character Python does not call printable (controls, format characters such as bidi overrides
and zero-width spaces, separators other than the space, surrogates, private use, unassigned)
is written as its escape, and the backslash as `\\\\`, so the escaped text reads back unambiguously.

Examples:
    >>> escape_unprintable("a\\nb\\u202ec\\\\d")
    'a\\\\nb\\\\u202ec\\\\\\\\d'
    >>> escape_unprintable("josé@bücher.example")
    'josé@bücher.example'
"""

from __future__ import annotations

_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape_unprintable(text: str, *, backslash: bool = True) -> str:
    """`text` with every unprintable character escaped, and the backslash unless told not to
    (text escaped once already, read back for display, keeps its escapes as they are)."""
    if text.isprintable() and (not backslash or "\\" not in text):
        return text
    return "".join(char if char == "\\" and not backslash else _escaped(char) for char in text)
