"""Strict JSON for what producers and callers send: one value, no repeated keys, bounded size.

Python's `json` keeps the last of repeated keys and accepts NaN and Infinity; a request that says
two things at once is refused instead, with a reason.
"""

from __future__ import annotations

import json
from typing import Any

from optout.domain.request import InvalidRequestError
from optout.outcomes import Reason

# A request is a few hundred bytes; anything far larger is not one, and is not parsed.
MAX_BODY_BYTES = 64 * 1024


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        raise InvalidRequestError(
            Reason.DUPLICATE_KEY, f"the JSON repeats the key(s) {', '.join(duplicated)}"
        )
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise InvalidRequestError(Reason.MALFORMED_JSON, f"the JSON holds {name}, which JSON does not allow")


def decode_json(text: str) -> Any:
    """Strict JSON: one value, no repeated keys, bounded size and nesting."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidRequestError(Reason.TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not text.strip():
        raise InvalidRequestError(Reason.MALFORMED_JSON, "the body is empty")
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidRequestError(Reason.MALFORMED_JSON, "the JSON is nested too deeply") from None
    except ValueError as error:
        if isinstance(error, InvalidRequestError):
            raise
        detail = getattr(error, "msg", str(error))
        raise InvalidRequestError(Reason.MALFORMED_JSON, f"the body is not valid JSON ({detail})") from None
