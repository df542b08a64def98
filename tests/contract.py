"""The published contracts, for tests: openapi.yaml and schemas/message.schema.json.

`message_validator()` checks a decoded message against the message schema and also asserts its
`contentSchema` keywords (JSON text inside an SNS notification), which JSON Schema validators
otherwise only annotate. `strict_json()` decodes as the standard says: NaN and Infinity are not
JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_PATH = ROOT / "openapi.yaml"
MESSAGE_SCHEMA_PATH = ROOT / "schemas" / "message.schema.json"
JSON_MEDIA_TYPE = "application/json"


def strict_json(text: str) -> Any:
    """One JSON value; raises ValueError for anything RFC 8259 does not allow (NaN included)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    # JSON sets no bound on a number's digits; Python's int() refuses over 4,300 of them.
    def number(digits: str) -> int | float:
        return int(digits) if len(digits) <= 64 else float(digits)

    return json.loads(text, parse_constant=refuse, parse_int=number)


def _content_schema(
    validator: Any, content_schema: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if schema.get("contentMediaType") != JSON_MEDIA_TYPE or not validator.is_type(instance, "string"):
        return
    try:
        decoded = strict_json(instance)
    except (ValueError, RecursionError) as error:
        yield ValidationError(f"the content is not JSON: {error}")
        return
    yield from validator.descend(decoded, content_schema)


ContentAssertingValidator = validators.extend(Draft202012Validator, {"contentSchema": _content_schema})


def message_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(MESSAGE_SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def message_validator() -> Any:
    return ContentAssertingValidator(message_schema())


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


OPENAPI_URI = "urn:hubspot-unsubscribe-all:openapi"


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def openapi_validator(document: Mapping[str, Any], pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in openapi.yaml (OpenAPI 3.1 schemas are 2020-12)."""
    registry: Registry[Any] = Registry().with_resource(
        OPENAPI_URI, DRAFT202012.create_resource(dict(document))
    )
    return Draft202012Validator({"$ref": f"{OPENAPI_URI}#{pointer}"}, registry=registry)


def _resolved(document: Mapping[str, Any], node: Mapping[str, Any], pointer: str) -> tuple[Any, str]:
    """A node and its pointer, following a local `$ref` (`#/components/...`) once."""
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node, pointer
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target, reference.removeprefix("#")


@dataclass(frozen=True)
class ApiAnswer:
    """One answer of the REST API: the route as template.yaml names it, and what came back."""

    method: str
    route: str
    status: int
    headers: Mapping[str, str]
    body: Any


def answer_problems(document: Mapping[str, Any], answer: ApiAnswer) -> list[str]:
    """How an API answer departs from openapi.yaml: an undocumented status, header value or body."""
    method = answer.method.lower()
    documented = document["paths"][answer.route][method]["responses"].get(str(answer.status))
    if documented is None:
        return [f"{answer.method} {answer.route} documents no {answer.status} answer"]
    response, pointer = _resolved(
        document, documented, _pointer("paths", answer.route, method, "responses", str(answer.status))
    )
    problems = []
    declared = {name.lower(): name for name in response.get("headers", {})}
    for name, value in answer.headers.items():
        if name.lower() not in declared:
            continue
        header_name = declared[name.lower()]
        header, header_pointer = _resolved(
            document, response["headers"][header_name], f"{pointer}{_pointer('headers', header_name)}"
        )
        typed = int(value) if header["schema"].get("type") == "integer" else value
        validator = openapi_validator(document, f"{header_pointer}/schema")
        problems += [f"header {name}: {error.message}" for error in validator.iter_errors(typed)]
    if JSON_MEDIA_TYPE in response.get("content", {}):
        validator = openapi_validator(document, f"{pointer}{_pointer('content', JSON_MEDIA_TYPE, 'schema')}")
        problems += [
            f"body /{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(answer.body)
        ]
    return problems
