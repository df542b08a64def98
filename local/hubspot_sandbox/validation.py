"""What HubSpot checks before it acts: query parameters, the batch body and email addresses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from local.hubspot_sandbox.routes import Operation

MAX_INT64 = 2**63 - 1
MAX_EMAIL_LENGTH = 254
TAKES_VERBOSE = frozenset(
    {Operation.UNSUBSCRIBE_ALL, Operation.READ_UNSUBSCRIBE_ALL, Operation.BATCH_UNSUBSCRIBE_ALL}
)
TAKES_BODY = frozenset({Operation.BATCH_UNSUBSCRIBE_ALL, Operation.BATCH_READ_UNSUBSCRIBE_ALL})


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with a request: `location` becomes `in`, `subscriber` the error's context."""

    message: str
    location: str
    subscriber: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedCall:
    """What a request asked for, as far as it could be read, and what was wrong with it."""

    business_unit_id: int | None
    verbose: bool
    inputs: tuple[str, ...] | None
    errors: tuple[FieldError, ...]


def parse_call(operation: Operation, raw_query: str, body: bytes) -> ParsedCall:
    query = parse_qs(raw_query, keep_blank_values=True)
    errors: list[FieldError] = []

    channel = _first(query, "channel")
    if channel is None:
        errors.append(FieldError("The query parameter channel is required; use channel=EMAIL.", "channel"))
    elif channel != "EMAIL":
        errors.append(FieldError(f"channel must be EMAIL, not {channel!r}.", "channel"))

    raw_business_unit_id = _first(query, "businessUnitId")
    business_unit_id = 0 if raw_business_unit_id is None else _non_negative_int64(raw_business_unit_id)
    if business_unit_id is None:
        errors.append(
            FieldError(
                f"businessUnitId must be a non-negative 64-bit integer, not {raw_business_unit_id!r}.",
                "businessUnitId",
            )
        )

    raw_verbose = _first(query, "verbose") if operation in TAKES_VERBOSE else None
    verbose = raw_verbose is not None and raw_verbose.lower() == "true"
    if raw_verbose is not None and raw_verbose.lower() not in ("true", "false"):
        errors.append(FieldError(f"verbose must be true or false, not {raw_verbose!r}.", "verbose"))

    inputs = None
    if operation in TAKES_BODY:
        inputs, body_error = _batch_inputs(body)
        if body_error is not None:
            errors.append(body_error)
    return ParsedCall(business_unit_id, verbose, inputs, tuple(errors))


def email_problem(address: str, rejected: re.Pattern[str] | None) -> str | None:
    """Why HubSpot would refuse `address` as a subscriber, or None when it would take it."""
    local_part, at, domain = address.rpartition("@")
    if not address:
        problem = "it is empty"
    elif len(address) > MAX_EMAIL_LENGTH:
        problem = f"it is longer than {MAX_EMAIL_LENGTH} characters"
    elif any(_is_space_or_control(character) for character in address):
        problem = "it contains whitespace or control characters"
    elif "\ufffd" in address:
        problem = "it was not valid UTF-8"
    elif not at:
        problem = "it has no @"
    elif not local_part or not domain:
        problem = "its local part or domain is empty"
    elif "." not in domain:
        problem = "its domain has no dot"
    elif rejected is not None and rejected.search(address):
        problem = "this sandbox's invalid_subscribers setting rejects it"
    else:
        return None
    return f"{address!r} is not a valid email address: {problem}."


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _non_negative_int64(text: str) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_INT64 else None


def _batch_inputs(body: bytes) -> tuple[tuple[str, ...] | None, FieldError | None]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, FieldError(f"The body is not valid JSON: {error}.", "body")
    inputs = document.get("inputs") if isinstance(document, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
        return None, FieldError('The body must be {"inputs": [...]}, a list of email addresses.', "inputs")
    return tuple(inputs), None


def _is_space_or_control(character: str) -> bool:
    code = ord(character)
    return character.isspace() or code < 0x20 or 0x7F <= code <= 0x9F
