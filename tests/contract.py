"""The published contracts, for tests: openapi.yaml and schemas/message.schema.json.

`message_validator()` checks a decoded message against the message schema and also asserts its
`contentSchema` keywords (JSON text inside an SNS notification), which JSON Schema validators
otherwise only annotate. `strict_json()` decodes as the standard says: NaN and Infinity are not
JSON. API answers are checked by local/runners/api_contract.py, which the local API Gateway and
the test harness share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators

from local.runners.api_contract import OPENAPI_PATH, AnswerContract

ROOT = Path(__file__).resolve().parent.parent
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


def openapi_validator(document: Mapping[str, Any], pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in openapi.yaml (OpenAPI 3.1 schemas are 2020-12)."""
    return AnswerContract(document).validator(pointer)
