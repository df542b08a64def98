"""Strict JSON for producers' and callers' text: linear in the body's size, bounded in what it holds."""

from __future__ import annotations

import json

import pytest

from bench.worst_bodies import flood_of_keys, most_keys_with_a_repeat
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


def refusal(text: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as refused:
        decode_json(text)
    return refused.value


# What these worst cases cost in CPU is a figure of `make bench` (bench/hostile_bodies.py).


def test_a_flood_of_keys_is_refused_for_what_it_holds():
    # Given 64 KiB holding as many keys as fit, one of them repeated at the end
    body = flood_of_keys()
    assert len(body.encode()) <= MAX_BODY_BYTES

    # When it is parsed, then it is refused for holding too many keys, before any repeat is sought
    assert refusal(body).reason is Reason.TOO_COMPLEX


def test_a_repeated_key_is_found_among_the_most_keys_an_object_may_hold():
    # Given the most keys one object may hold, the first repeated at the end
    body = most_keys_with_a_repeat()

    # When it is parsed, then the repeat is found, named once
    error = refusal(body)
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


def test_a_number_too_long_for_any_field_is_read_as_a_float_never_by_int():
    # Python's int() refuses more than 4,300 digits, and slows down long before
    assert decode_json("9" * (MAX_BODY_BYTES - 1)) == float("inf")
