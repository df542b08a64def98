"""Matches a request path to the template's API routes, as API Gateway REST APIs do.

Paths are compared segment by segment while still percent-encoded: a literal segment matches
itself, `{name}` one whole segment, `{name+}` the rest of the path. When several resources
match, the one with a literal segment where the others have a parameter wins, so
`/statuses/batch/unsubscribe-all` beats `/statuses/{subscriberIdString}/unsubscribe-all`.
Path parameters are handed over decoded; the path itself is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from local.runners.function_definition import ApiRoute


@dataclass(frozen=True)
class RouteMatch:
    route: ApiRoute
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _parameter(segment: str) -> str | None:
    return segment[1:-1] if segment.startswith("{") and segment.endswith("}") else None


def _match_path(template: str, raw_path: str) -> dict[str, str] | None:
    wanted, given = _segments(template), _segments(raw_path)
    parameters: dict[str, str] = {}
    for index, segment in enumerate(wanted):
        name = _parameter(segment)
        if name is not None and name.endswith("+"):
            rest = given[index:]
            if not rest:
                return None
            parameters[name[:-1]] = unquote("/".join(rest))
            return parameters
        if index >= len(given):
            return None
        if name is None:
            if segment != given[index]:
                return None
        elif given[index]:
            parameters[name] = unquote(given[index])
        else:
            return None
    return parameters if len(wanted) == len(given) else None


def _specificity(route: ApiRoute) -> tuple[int, ...]:
    """Sorts literal segments before parameters, and plain parameters before greedy ones."""
    ranks = []
    for segment in _segments(route.path):
        name = _parameter(segment)
        ranks.append(0 if name is None else 2 if name.endswith("+") else 1)
    return tuple(ranks)


class RouteTable:
    def __init__(self, routes: Iterable[ApiRoute]) -> None:
        self._routes = sorted(routes, key=_specificity)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The route for this method and percent-encoded path, or None (API Gateway answers 403)."""
        for route in self._routes:
            parameters = _match_path(route.path, raw_path)
            if parameters is None:
                continue
            # The most specific resource decides; its methods are the only ones that exist there.
            same_resource = [other for other in self._routes if other.path == route.path]
            for candidate in same_resource:
                if candidate.method in {method.upper(), "ANY"}:
                    return RouteMatch(candidate, parameters)
            return None
        return None
