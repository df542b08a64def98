"""Looks for a secret, or an email address that is not masked, in captured output.

Output is read several ways, since a leak can hide in an encoding: as written, percent-decoded
(a URL with the address in it) and as the strings of each JSON line (`\\u00e9` escapes, keys).
Masked addresses (`j***@example.com`, as optout.masking writes them) are fine; any other
email-shaped string is a leak, whether or not it is one of the addresses the run used. A finding
never repeats what it found: a report of leaks must not leak.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

# local@domain.tld, the local part up to a space, quote, bracket or separator (as optout.masking reads it).
EMAIL_SHAPED = re.compile(
    r"""(?P<local>[^\s@"'<>()\[\],;:\\/]+)@(?P<domain>[^\s@"'<>()\[\],;:\\/]+\.[^\s@"'<>()\[\],;:\\/]+)"""
)
MASK = "***"


@dataclass(frozen=True)
class Leak:
    source: str  # where it was found: "function logs", "DLQ attributes", ...
    kind: str  # "token" or "email address"
    excerpt: str  # what was found, itself masked

    def __str__(self) -> str:
        return f"{self.kind} in {self.source}: {self.excerpt}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def readings(text: str) -> Iterator[str]:
    """The text as written, percent-decoded, and the strings of each line that is a JSON document."""
    yield text
    yield unquote(text)
    for line in text.splitlines():
        if line.lstrip().startswith(("{", "[")):
            try:
                yield from _strings(json.loads(line))
            except ValueError:
                continue


def _masked(secret: str) -> str:
    return f"{secret[:4]}{MASK} ({len(secret)} characters)"


def find_leaks(source: str, text: str, *, secrets: Collection[str], emails: bool = True) -> list[Leak]:
    """Every occurrence of a secret, and (with `emails`) of an unmasked email address, in `text`."""
    leaks: dict[str, Leak] = {}
    for reading in readings(text):
        for secret in secrets:
            if secret and secret in reading:
                leaks.setdefault(secret, Leak(source, "token", _masked(secret)))
        if not emails:
            continue
        for match in EMAIL_SHAPED.finditer(reading):
            if not match["local"].endswith(MASK):
                excerpt = f"{match['local'][:1]}{MASK}@{match['domain']} (unmasked)"
                leaks.setdefault(match.group(), Leak(source, "email address", excerpt))
    return list(leaks.values())
