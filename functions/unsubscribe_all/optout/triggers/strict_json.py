"""Strict JSON for what producers and callers send: one value, no repeated keys, bounded in what it holds.

Python's `json` keeps the last of repeated keys and accepts NaN and Infinity; a request that says
two things at once is refused instead, with a reason. Parsing is linear in the body's size, and
a body may hold only so much (a request is a few hundred bytes, an envelope a few dozen keys):

| bound | refused as |
|---|---|
| `MAX_BODY_BYTES` of UTF-8 | `TOO_LARGE` |
| `MAX_KEYS_PER_OBJECT` keys in one object, `MAX_KEYS` in all | `TOO_COMPLEX` |
| `MAX_DEPTH` levels of arrays and objects | `TOO_COMPLEX` |

An integer literal longer than `MAX_INTEGER_TEXT` characters is read as a float (Python's `int()`
refuses more than 4,300 digits, and slows down long before): no field takes such a number, so
it is refused by the field that holds it, or ignored with the field. Strings are bounded by the
body; a key name quoted in a refusal is escaped and cut short.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from optout.domain.request import InvalidRequestError
from optout.outcomes import Reason
from optout.printable import escape_unprintable

# A request is a few hundred bytes; anything far larger is not one, and is not parsed.
MAX_BODY_BYTES = 64 * 1024
# An SNS notification has about 15 keys, an EventBridge event 10 plus its detail; a producer's
# own fields ride along, ignored. These leave them room and stop floods of keys.
MAX_KEYS_PER_OBJECT = 256
MAX_KEYS = 1024
MAX_DEPTH = 64
# A sign and 19 digits hold any int64; no field takes more.
MAX_INTEGER_TEXT = 64
MAX_QUOTED_KEYS = 3
MAX_QUOTED_KEY_LENGTH = 40


def _quoted(key: str) -> str:
    shown = key if len(key) <= MAX_QUOTED_KEY_LENGTH else key[:MAX_QUOTED_KEY_LENGTH] + "..."
    return f'"{escape_unprintable(shown)}"'


def _too_complex(what: str, limit: int) -> InvalidRequestError:
    return InvalidRequestError(Reason.TOO_COMPLEX, f"the JSON holds more than {limit} {what}")


def _object_builder() -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An `object_pairs_hook` that refuses repeated keys and counts every key of one document."""
    keys_seen = 0

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal keys_seen
        keys_seen += len(pairs)
        if len(pairs) > MAX_KEYS_PER_OBJECT:
            raise _too_complex("keys in one object", MAX_KEYS_PER_OBJECT)
        if keys_seen > MAX_KEYS:
            raise _too_complex("keys in all", MAX_KEYS)
        built = dict(pairs)
        if len(built) != len(pairs):
            raise InvalidRequestError(Reason.DUPLICATE_KEY, f"the JSON repeats the key(s) {_repeated(pairs)}")
        return built

    return build


def _repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for key, _ in pairs:
        if key in seen:
            repeated[key] = None
            if len(repeated) == MAX_QUOTED_KEYS:
                break
        seen.add(key)
    return ", ".join(map(_quoted, repeated))


def _integer(text: str) -> int | float:
    return int(text) if len(text) <= MAX_INTEGER_TEXT else float(text)


def _reject_constant(name: str) -> Any:
    raise InvalidRequestError(Reason.MALFORMED_JSON, f"the JSON holds {name}, which JSON does not allow")


def _check_depth(value: Any) -> None:
    """Walks the decoded value without recursion; refuses it past `MAX_DEPTH` levels."""
    level: list[Any] = [value]
    depth = 0
    while level:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return
        depth += 1
        if depth > MAX_DEPTH:
            raise _too_complex("levels of nesting", MAX_DEPTH)
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]


def decode_json(text: str) -> Any:
    """Strict JSON: one value, no repeated keys, bounded size, keys and nesting."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidRequestError(Reason.TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not text.strip():
        raise InvalidRequestError(Reason.MALFORMED_JSON, "the body is empty")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_builder(),
            parse_int=_integer,
            parse_constant=_reject_constant,
        )
    except RecursionError:
        raise _too_complex("levels of nesting", MAX_DEPTH) from None
    except ValueError as error:
        if isinstance(error, InvalidRequestError):
            raise
        detail = getattr(error, "msg", str(error))
        raise InvalidRequestError(Reason.MALFORMED_JSON, f"the body is not valid JSON ({detail})") from None
    _check_depth(value)
    return value
