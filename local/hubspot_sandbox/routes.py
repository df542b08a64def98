"""Matches a raw request target to an operation, without ever decoding the path as a whole.

The subscriber is an email address sent as one percent-encoded path segment. The path is split on
`/` before anything is decoded, and only the subscriber segment is decoded (with `unquote`, so `+`
stays `+`): `a%2F..%2Fx%40y.com` is the one subscriber `a/../x@y.com`, while a literal `/` makes a
different path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

API_ROOT = "communication-preferences"
# The versions HubSpot publishes for these operations; any other version segment is a 404.
VERSIONS = ("v4", "2026-03", "2026-09")
SUBSCRIBER = "{subscriberIdString}"


class Operation(StrEnum):
    UNSUBSCRIBE_ALL = "unsubscribe-all"
    READ_UNSUBSCRIBE_ALL = "read-unsubscribe-all"
    BATCH_UNSUBSCRIBE_ALL = "batch-unsubscribe-all"
    BATCH_READ_UNSUBSCRIBE_ALL = "batch-read-unsubscribe-all"
    READ_STATUSES = "read-statuses"


# Path segments after `/communication-preferences/{version}/statuses`, then method -> operation.
ROUTES: tuple[tuple[tuple[str, ...], dict[str, Operation]], ...] = (
    (("batch", "unsubscribe-all"), {"POST": Operation.BATCH_UNSUBSCRIBE_ALL}),
    (("batch", "unsubscribe-all", "read"), {"POST": Operation.BATCH_READ_UNSUBSCRIBE_ALL}),
    (
        (SUBSCRIBER, "unsubscribe-all"),
        {"POST": Operation.UNSUBSCRIBE_ALL, "GET": Operation.READ_UNSUBSCRIBE_ALL},
    ),
    ((SUBSCRIBER,), {"GET": Operation.READ_STATUSES}),
)


@dataclass(frozen=True, slots=True)
class Route:
    operation: Operation
    version: str
    subscriber: str | None


@dataclass(frozen=True, slots=True)
class NoRoute:
    """No operation here: `allowed` lists the methods the path does have (empty means 404)."""

    allowed: tuple[str, ...] = ()


def split_target(raw_target: str) -> tuple[str, str]:
    """Split a raw request target into (path, query) at the first `?`, decoding nothing."""
    path, _, query = raw_target.partition("?")
    return path, query


def match_route(method: str, raw_path: str) -> Route | NoRoute:
    segments = raw_path.split("/")
    if len(segments) < 5 or segments[:2] != ["", API_ROOT] or segments[3] != "statuses":
        return NoRoute()
    version, rest = segments[2], tuple(segments[4:])
    if version not in VERSIONS:
        return NoRoute()
    for pattern, operations in ROUTES:
        if not _matches(pattern, rest):
            continue
        if method not in operations:
            return NoRoute(allowed=tuple(sorted(operations)))
        # Escapes that are not UTF-8 decode to U+FFFD, which the email check then rejects.
        subscriber = unquote(rest[0], errors="replace") if pattern[0] == SUBSCRIBER else None
        return Route(operations[method], version, subscriber)
    return NoRoute()


def _matches(pattern: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    return len(pattern) == len(segments) and all(
        expected in (SUBSCRIBER, actual) for expected, actual in zip(pattern, segments, strict=True)
    )
