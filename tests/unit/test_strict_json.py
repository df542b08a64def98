"""Strict JSON for producers' and callers' text: linear in the body's size, bounded in what it holds."""

from __future__ import annotations

import itertools
import json
import string
import time
from collections.abc import Iterator

import pytest

from optout.domain.request import InvalidRequestError
from optout.outcomes import Reason
from optout.triggers.message_body import parse_message_body
from optout.triggers.strict_json import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_KEYS,
    MAX_KEYS_PER_OBJECT,
    MAX_QUOTED_KEYS,
    decode_json,
)

# Today's machine refuses the body below in about 10 ms of CPU; quadratic duplicate detection
# took 0.8 s. A bound this loose holds on a slow, busy machine and still catches the quadratic.
WORST_CASE_CPU_BUDGET_S = 0.25


def key_names() -> Iterator[str]:
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


def refusal(text: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as refused:
        decode_json(text)
    return refused.value


def test_a_worst_case_body_is_refused_in_bounded_time():
    # Given 64 KiB holding as many keys as fit, one of them repeated at the end
    body = flood_of_keys()
    assert len(body.encode()) <= MAX_BODY_BYTES

    # When it is parsed
    started = time.thread_time()
    error = refusal(body)
    spent = time.thread_time() - started

    # Then it is refused for what it holds, within a bound a quadratic check cannot meet
    assert error.reason is Reason.TOO_COMPLEX
    assert spent < WORST_CASE_CPU_BUDGET_S


def test_a_repeated_key_is_found_among_many_in_bounded_time():
    # Given the most keys one object may hold, the first repeated at the end
    names = list(itertools.islice(key_names(), MAX_KEYS_PER_OBJECT - 1))
    body = "{" + ",".join(f'"{name}":0' for name in [*names, names[0]]) + "}"

    # When it is parsed, then the repeat is found, named once
    started = time.thread_time()
    error = refusal(body)
    assert time.thread_time() - started < WORST_CASE_CPU_BUDGET_S
    assert error.reason is Reason.DUPLICATE_KEY
    assert error.message == 'the JSON repeats the key(s) "a"'


def test_a_refusal_quotes_few_repeated_keys_escaped_and_cut_short():
    # Given an object repeating many keys, one of them long and holding a newline and a bidi override
    long_name = "x" * 500
    names = [long_name, "line\nbreak", "\u202eevil", "d", "e"]
    body = "{" + ",".join(f"{json.dumps(name)}:0,{json.dumps(name)}:1" for name in names) + "}"

    # When it is parsed
    error = refusal(body)

    # Then the message names the first few, each escaped and short, on one printable line
    assert error.reason is Reason.DUPLICATE_KEY
    assert error.message.isprintable()
    assert "\\n" in error.message and "\\u202e" in error.message
    assert error.message.count('"') == 2 * MAX_QUOTED_KEYS
    assert len(error.message) < 200


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{" + ",".join(f'"k{n}":0' for n in range(MAX_KEYS_PER_OBJECT + 1)) + "}", "keys in one object"),
        (
            "[" + ",".join("{" + ",".join(f'"k{n}":0' for n in range(100)) + "}" for _ in range(11)) + "]",
            "keys in all",
        ),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nesting"),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nesting"),
        ("[" * 30000 + "]" * 30000, "nesting"),
    ],
    ids=["keys-per-object", "keys-in-all", "arrays-too-deep", "objects-too-deep", "far-too-deep"],
)
def test_what_a_message_may_hold_is_bounded_and_each_refusal_says_which_bound(text, what):
    assert MAX_KEYS < 11 * 100
    error = refusal(text)
    assert error.reason is Reason.TOO_COMPLEX
    assert what in error.message


def test_what_stays_within_the_bounds_is_accepted():
    # Given a request with a nested extra field at the deepest level allowed and many keys
    extra = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    fields = ",".join(f'"f{n}":{n}' for n in range(MAX_KEYS_PER_OBJECT - 2))
    body = f'{{"subscriberIdString": "jane@example.com", "extra": {extra}, {fields}}}'

    # When it is parsed, then the request is read
    assert parse_message_body(body).subscriber == "jane@example.com"


def test_an_integer_too_long_for_any_field_is_read_as_a_number_not_refused_as_json():
    # Given an ignored field and a businessUnitId, each 5,000 digits long (Python's int() refuses
    # more than 4,300)
    digits = "9" * 5000
    ignored = f'{{"subscriberIdString": "jane@example.com", "producerCounter": {digits}}}'
    business_unit = f'{{"subscriberIdString": "jane@example.com", "businessUnitId": {digits}}}'

    # When each is parsed, then the ignored one is accepted and the business unit is refused as such
    assert parse_message_body(ignored).subscriber == "jane@example.com"
    with pytest.raises(InvalidRequestError) as refused:
        parse_message_body(business_unit)
    assert (refused.value.reason, refused.value.field) == (Reason.INVALID_FIELD, "businessUnitId")


def test_a_body_of_digits_is_parsed_in_bounded_time():
    started = time.thread_time()
    assert decode_json("9" * (MAX_BODY_BYTES - 1)) > 0
    assert time.thread_time() - started < WORST_CASE_CPU_BUDGET_S
