"""The bad-input corpus: hostile and broken inputs for both triggers, kept as data.

`sqs.json` holds message bodies and `api.json` REST proxy requests, each with its expected
outcome; their `description` fields define the format. Huge inputs are generator specs (a list of
parts, each a string, `{"repeat": s, "times": n}`, or `{"numbered": s, "times": n, "separator":
t}` for n copies of s with `{n}` replaced by 0, 1, ...), so the files stay small and readable.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent
SUCCEED = "succeed"
REDRIVE = "redrive"
DEAD_LETTER = "dead_letter:"


@dataclass(frozen=True)
class SqsCase:
    name: str
    body: str
    # Acceptable outcomes: "succeed", "redrive" or "dead_letter:<REASON>".
    outcomes: frozenset[str]
    # The exact string HubSpot must receive, for a case expected to succeed.
    subscriber: str | None
    # How many times the body is delivered, each in an invocation of its own (an upstream redelivery).
    deliveries: int = 1


@dataclass(frozen=True)
class ApiCase:
    name: str
    method: str
    path: str  # raw, still percent-encoded, as API Gateway passes it
    resource: str
    body: str | None
    is_base64_encoded: bool
    status: int
    category: str | None
    subscriber: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


def _part(part: str | Mapping[str, Any]) -> str:
    if isinstance(part, str):
        return part
    if "numbered" in part:
        return str(part.get("separator", "")).join(
            part["numbered"].replace("{n}", str(n)) for n in range(part["times"])
        )
    return str(part["repeat"] * part["times"])


def generate(parts: list[Any]) -> str:
    """The text a generator spec stands for."""
    return "".join(map(_part, parts))


def _body(case: Mapping[str, Any]) -> str | None:
    if "body" in case:
        return str(case["body"])
    if "json" in case:
        return json.dumps(case["json"], ensure_ascii=False)
    if "generate" in case:
        return generate(case["generate"])
    return None


def _cases(file_name: str) -> list[dict[str, Any]]:
    document = json.loads((CORPUS_DIR / file_name).read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = document["cases"]
    return cases


def sqs_cases() -> list[SqsCase]:
    cases = []
    for case in _cases("sqs.json"):
        expect = case["expect"]
        body = _body(case)
        if body is None:
            raise ValueError(f"SQS case {case['name']!r} has no body")
        cases.append(
            SqsCase(
                name=case["name"],
                body=body,
                outcomes=frozenset([expect] if isinstance(expect, str) else expect),
                subscriber=case.get("subscriber"),
                deliveries=case.get("deliveries", 1),
            )
        )
    return cases


def api_cases() -> list[ApiCase]:
    cases = []
    for case in _cases("api.json"):
        body = _body(case)
        if case.get("encode_base64") and body is not None:
            body = base64.b64encode(body.encode()).decode("ascii")
        cases.append(
            ApiCase(
                name=case["name"],
                method=case["method"],
                path=case["path"],
                resource=case.get("resource", case["path"]),
                body=body,
                is_base64_encoded=bool(case.get("encode_base64") or case.get("is_base64_encoded")),
                status=case["status"],
                category=case["category"],
                subscriber=case.get("subscriber"),
                headers=case.get("headers", {}),
                query={
                    name: value if isinstance(value, str) else generate(value)
                    for name, value in case.get("query", {}).items()
                },
            )
        )
    return cases
