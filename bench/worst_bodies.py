"""The worst message bodies a producer can send within the 64 KiB a body may hold.

Shared by the benchmark, which times their refusal, and the unit tests, which check what each is
refused as.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator

from optout.triggers.strict_json import MAX_BODY_BYTES, MAX_KEYS_PER_OBJECT


def key_names() -> Iterator[str]:
    """Distinct key names, shortest first: a, b, ..., 9, aa, ab, ..."""
    alphabet = string.ascii_letters + string.digits
    for length in itertools.count(1):
        for letters in itertools.product(alphabet, repeat=length):
            yield "".join(letters)


def flood_of_keys(limit_bytes: int = MAX_BODY_BYTES) -> str:
    """One object with as many distinct short keys as fit, then a repeat of the first one."""
    parts: list[str] = []
    size = len('{"a":0}')
    for name in key_names():
        part = f'"{name}":0'
        if size + len(part) + 1 > limit_bytes:
            break
        parts.append(part)
        size += len(part) + 1
    return "{" + ",".join([*parts, '"a":0']) + "}"


def most_keys_with_a_repeat() -> str:
    """The most keys one object may hold, the first repeated at the end."""
    names = list(itertools.islice(key_names(), MAX_KEYS_PER_OBJECT - 1))
    return "{" + ",".join(f'"{name}":0' for name in [*names, names[0]]) + "}"


def deepest_arrays(limit_bytes: int = MAX_BODY_BYTES) -> str:
    return "[" * (limit_bytes // 2) + "]" * (limit_bytes // 2)


def longest_number(limit_bytes: int = MAX_BODY_BYTES) -> str:
    return "9" * limit_bytes


WORST_CASES = {
    "key flood": flood_of_keys,
    "most keys, one repeated": most_keys_with_a_repeat,
    "deepest arrays": deepest_arrays,
    "longest number": longest_number,
}
