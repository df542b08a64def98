"""The REST API's answers checked against openapi.yaml, the contract published for its callers.

An answer departs from the contract when its status is not documented for the route and method,
a declared header's value breaks its schema, or its JSON body breaks the response's schema.
Formats are asserted, not only annotated: `date-time` (RFC 3339), `uuid`, and OpenAPI's
`int32`/`int64` ranges.

The facade's routes answer with HubSpot's own schemas for the version in the path. openapi.yaml
holds HubSpot's v4 schemas; `VERSION_DIFFERENCES` lists where a later version's document differs
(2026-09 declares `subscriptionId` int32), and a facade answer is checked with its version's
schemas (tests/unit/test_openapi.py keeps both equal to HubSpot's documents).

The suite turns the check on for every local API (UNSUBSCRIBE_ALL_CHECK_API_ANSWERS=1, set by
tests/conftest.py and by `make soak`): the local API Gateway then answers an off-contract answer
with a 500 of its own that no caller accepts, so the test that met it fails.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
CHECK_VARIABLE = "UNSUBSCRIBE_ALL_CHECK_API_ANSWERS"
JSON_MEDIA_TYPE = "application/json"
FACADE_PREFIX = "/communication-preferences/{version}/"
OPENAPI_URI = "urn:hubspot-unsubscribe-all:openapi"
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# Where HubSpot's document for a version differs from v4's schemas in openapi.yaml: a JSON pointer
# into openapi.yaml and the version's value there.
VERSION_DIFFERENCES: Mapping[str, Mapping[str, Any]] = {
    "2026-09": {"/components/schemas/PublicStatus/properties/subscriptionId/format": "int32"},
}


def answers_checked(environ: Mapping[str, str]) -> bool:
    """Whether this process's local APIs check their answers (the test suite and the soak say so)."""
    return environ.get(CHECK_VARIABLE) == "1"


def _in_range(bounds: tuple[int, int]) -> Any:
    def check(instance: object) -> bool:
        return not isinstance(instance, int) or bounds[0] <= instance <= bounds[1]

    return check


def _format_checker() -> FormatChecker:
    checker = FormatChecker(["date-time", "uuid"])
    checker.checks("int32")(_in_range(INT32))
    checker.checks("int64")(_in_range(INT64))
    return checker


def pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _node(document: Mapping[str, Any], json_pointer: str) -> Any:
    node: Any = document
    for part in json_pointer.removeprefix("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def with_differences(document: Mapping[str, Any], version: str) -> dict[str, Any]:
    """openapi.yaml as HubSpot's document for `version` has it (a copy; v4 and 2026-03: unchanged)."""
    changed = copy.deepcopy(dict(document))
    for json_pointer, value in VERSION_DIFFERENCES.get(version, {}).items():
        parent, _, key = json_pointer.rpartition("/")
        _node(changed, parent)[key] = value
    return changed


@dataclass(frozen=True)
class ApiAnswer:
    """One answer of the REST API: the route as template.yaml names it, and what came back."""

    method: str
    route: str
    status: int
    headers: Mapping[str, str]
    body: Any
    version: str | None = None  # the facade's path parameter


class AnswerContract:
    """openapi.yaml, read once, with a validator per schema and version built on first use."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    @classmethod
    @cache
    def load(cls, path: Path = OPENAPI_PATH) -> AnswerContract:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    @cache  # noqa: B019 - one contract per process (load() caches it), so the cache lives as long
    def validator(self, json_pointer: str, version: str | None = None) -> Draft202012Validator:
        """A validator for the schema at `json_pointer` (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
        document = self.document if version is None else with_differences(self.document, version)
        registry: Registry[Any] = Registry().with_resource(OPENAPI_URI, DRAFT202012.create_resource(document))
        return Draft202012Validator(
            {"$ref": f"{OPENAPI_URI}#{json_pointer}"}, registry=registry, format_checker=_format_checker()
        )

    def _resolved(self, node: Mapping[str, Any], json_pointer: str) -> tuple[Mapping[str, Any], str]:
        """A node and its pointer, following a local `$ref` (`#/components/...`) once."""
        reference = node.get("$ref")
        if not isinstance(reference, str):
            return node, json_pointer
        target = reference.removeprefix("#")
        return _node(self.document, target), target

    def problems(self, answer: ApiAnswer) -> list[str]:
        """How the answer departs from openapi.yaml; empty when it does not."""
        method = answer.method.lower()
        operation = self.document["paths"].get(answer.route, {}).get(method)
        if operation is None:
            return [f"openapi.yaml has no {answer.method} {answer.route}"]
        documented = operation["responses"].get(str(answer.status))
        if documented is None:
            return [f"{answer.method} {answer.route} documents no {answer.status} answer"]
        response, response_pointer = self._resolved(
            documented, pointer("paths", answer.route, method, "responses", str(answer.status))
        )
        version = answer.version if answer.route.startswith(FACADE_PREFIX) else None
        return self._header_problems(response, response_pointer, answer.headers) + self._body_problems(
            response, response_pointer, answer.body, version if version in VERSION_DIFFERENCES else None
        )

    def _header_problems(
        self, response: Mapping[str, Any], response_pointer: str, headers: Mapping[str, str]
    ) -> list[str]:
        declared = {name.lower(): name for name in response.get("headers", {})}
        problems = []
        for name, value in headers.items():
            if name.lower() not in declared:
                continue
            header_name = declared[name.lower()]
            header, header_pointer = self._resolved(
                response["headers"][header_name], f"{response_pointer}{pointer('headers', header_name)}"
            )
            typed: Any = value
            if header["schema"].get("type") == "integer":
                try:
                    typed = int(value)
                except ValueError:
                    problems.append(f"header {name}: {value!r} is not an integer")
                    continue
            errors = self.validator(f"{header_pointer}/schema").iter_errors(typed)
            problems += [f"header {name}: {error.message}" for error in errors]
        return problems

    def _body_problems(
        self, response: Mapping[str, Any], response_pointer: str, body: Any, version: str | None
    ) -> list[str]:
        if JSON_MEDIA_TYPE not in response.get("content", {}):
            return []
        schema_pointer = f"{response_pointer}{pointer('content', JSON_MEDIA_TYPE, 'schema')}"
        return [
            f"body /{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in self.validator(schema_pointer, version).iter_errors(body)
        ]


def decoded_body(body: bytes | str | None) -> Any:
    """A JSON body as the caller decodes it; a body that is not JSON is kept as text (and fails)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body if isinstance(body, str) else body.decode("utf-8", errors="replace")


def proxy_answer(event: Mapping[str, Any], response: Mapping[str, Any]) -> ApiAnswer:
    """A REST proxy event and the function's proxy response, as the caller sees them."""
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers |= response.get("headers") or {}
    return ApiAnswer(
        method=event["httpMethod"],
        route=event["resource"],
        status=int(response["statusCode"]),
        headers=headers,
        body=decoded_body(response.get("body")),
        version=(event.get("pathParameters") or {}).get("version"),
    )
