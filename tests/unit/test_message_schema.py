"""schemas/message.schema.json accepts the messages the function accepts and refuses the others.

Checked against the bad-input corpus (tests/corpus/sqs.json) and the demo's messages, whose
outcomes the function's own tests establish. A body that is not JSON is no message, so it
counts as refused. Rules JSON Schema cannot state are named in the schema's description; the
corpus cases that test only those are left out here, by their reason or, where the reason is
shared with rules the schema does state, by name.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from local.demo.messages import demo_steps
from local.demo.outcomes import OutcomeKind
from tests.contract import message_schema, message_validator, strict_json
from tests.corpus import SUCCEED, SqsCase, sqs_cases

# Outcomes whose rule is beyond JSON Schema, and why.
UNSTATABLE_OUTCOMES = {
    "dead_letter:DUPLICATE_KEY": "a repeated key is gone once the JSON is decoded",
    "dead_letter:TOO_LARGE": "the body's size in bytes",
    "dead_letter:INVALID_EMAIL": "the function's address rule (the schema's pattern is a first check)",
}
UNSTATABLE_CASES = {
    "subscriberIdString and email differ": "comparing two fields' values",
    "businessUnitId as a float": "7.0 is an integer to JSON Schema",
    # The function's bounds on the whole document (the schema states the one on a single object)
    "arrays nested 30000 deep": "nesting depth",
    "objects nested 3000 deep": "nesting depth",
    "a request with a 200-deep extra field": "nesting depth",
    "1025 keys spread over nested objects": "keys counted over the whole document",
    "one key repeated 8000 times": "a repeated key is gone once the JSON is decoded",
}
# The dead-letter reasons that say a message itself is wrong (not HubSpot, not a reused key).
MESSAGE_REASONS = {
    "MALFORMED_JSON",
    "NOT_AN_OBJECT",
    "DUPLICATE_KEY",
    "TOO_LARGE",
    "TOO_COMPLEX",
    "ENVELOPE_TOO_DEEP",
    "MISSING_SUBSCRIBER",
    "INVALID_EMAIL",
    "INVALID_FIELD",
    "UNSUPPORTED_CHANNEL",
}

VALIDATOR = message_validator()


def accepted(body: str) -> bool:
    try:
        message = strict_json(body)
    except (ValueError, RecursionError):
        return False
    return bool(VALIDATOR.is_valid(message))


def statable(case: SqsCase) -> bool:
    return case.name not in UNSTATABLE_CASES and not case.outcomes & set(UNSTATABLE_OUTCOMES)


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    # GIVEN the message schema
    schema = message_schema()
    # WHEN it is checked against its meta-schema
    Draft202012Validator.check_schema(schema)
    # THEN it is a 2020-12 schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_schemas_own_examples_are_valid() -> None:
    # GIVEN the examples the schema gives
    schema: dict[str, Any] = message_schema()
    examples = schema["examples"] + schema["$defs"]["request"]["examples"]
    # WHEN each is validated
    # THEN each is a message
    assert examples
    assert [example for example in examples if not VALIDATOR.is_valid(example)] == []


@pytest.mark.parametrize("case", [case for case in sqs_cases() if statable(case)], ids=lambda case: case.name)
def test_the_schema_agrees_with_the_function_on_the_corpus(case: SqsCase) -> None:
    # GIVEN a corpus body and what the function does with it
    expected = case.outcomes == {SUCCEED}
    # WHEN the body is decoded and validated
    # THEN the schema accepts it exactly when the function does
    assert accepted(case.body) is expected


def test_what_is_left_out_of_the_corpus_check_is_there_and_refused_by_the_function() -> None:
    # GIVEN the corpus
    cases = sqs_cases()
    names = {case.name for case in cases}
    outcomes = set().union(*(case.outcomes for case in cases))
    # WHEN the exclusions are looked up
    # THEN each names a real case or outcome, none of them a success, and most of the corpus is checked
    assert set(UNSTATABLE_CASES) <= names
    assert set(UNSTATABLE_OUTCOMES) <= outcomes
    assert all(SUCCEED not in case.outcomes for case in cases if not statable(case))
    # (the hostile part of the corpus is mostly what a schema cannot state: repeated keys, sizes)
    assert sum(statable(case) for case in cases) >= len(cases) * 3 // 5


def test_the_demos_messages_are_valid_unless_the_function_refuses_them_as_messages() -> None:
    # GIVEN every message the demo sends, with the outcome it is expected to reach
    messages = [message for step in demo_steps() for message in step.messages]
    refused_as_messages = [
        message
        for message in messages
        if message.expected.kind is OutcomeKind.DEAD_LETTERED and message.expected.reason in MESSAGE_REASONS
    ]
    # WHEN the others (sample events, a refusal by HubSpot, duplicates, a burst) are validated
    others = [message for message in messages if message not in refused_as_messages]
    # THEN each is a valid message; the demo's refused one is its invalid address, a reason left out above
    assert len(others) >= 10
    assert [message.label for message in others if not accepted(message.body)] == []
    assert {message.expected.reason for message in refused_as_messages} == {"INVALID_EMAIL"}
