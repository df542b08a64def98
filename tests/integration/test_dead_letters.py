"""Parking on the dead-letter queue whatever producers wrote: escaped attributes, bodies SQS cannot carry."""

from __future__ import annotations

import base64

from optout.aws.dead_letters import DeadLetter, DeadLetterQueue
from optout.outcomes import Reason
from tests.conftest import FunctionStack
from tests.integration.function_harness import dead_letters, failed_ids, invoke, sqs_event

HOSTILE = "a\u0000b\ud800c\nd\r\u202ee\u2028f\\g"


def queue(stack: FunctionStack) -> DeadLetterQueue:
    sqs = stack.session.client("sqs")
    return DeadLetterQueue(stack.resources.dead_letter_queue_url, lambda: sqs)


def letter(body: str, detail: str) -> DeadLetter:
    return DeadLetter("m-1", body, Reason.DUPLICATE_KEY, detail, "arn:aws:sqs:us-east-1:1:q", "1")


def test_a_detail_holding_nul_a_lone_surrogate_or_line_breaks_is_parked_escaped(function_stack):
    # Given a letter whose detail quotes a producer's key names verbatim
    # When it is parked
    not_parked = queue(function_stack).park([letter('{"k": 1}', f"the JSON repeats the key(s) {HOSTILE}")])

    # Then SQS took it, and the detail reads back as one printable line that says what was there
    assert not_parked == set()
    [parked] = dead_letters(function_stack)
    assert parked["detail"] == "the JSON repeats the key(s) a\\u0000b\\ud800c\\nd\\r\\u202ee\\u2028f\\\\g"
    assert parked["body"] == '{"k": 1}'
    assert "bodyEncoding" not in parked


def test_a_body_sqs_cannot_carry_is_parked_base64_encoded_with_its_reason(function_stack):
    # Given bodies holding characters SQS does not allow in a message (NUL, a lone surrogate, U+FFFE)
    bodies = ['{"k": "\u0000"}', '{"k": "\ud800"}', '{"k": "\ufffe"}']

    # When they are parked
    dlq = queue(function_stack)
    assert dlq.park([letter(body, "d") for body in bodies]) == set()

    # Then each is on the DLQ with its reason, its body base64 of its UTF-8 (surrogates kept)
    parked = dead_letters(function_stack)
    assert sorted(
        base64.b64decode(item["body"]).decode("utf-8", errors="surrogatepass") for item in parked
    ) == sorted(bodies)
    assert {(item["reason"], item["bodyEncoding"]) for item in parked} == {("DUPLICATE_KEY", "base64")}


def test_repeated_key_names_with_control_characters_are_parked_with_their_reason(function_stack):
    # Given messages repeating a key whose name holds NUL, a lone surrogate, a newline or a bidi override
    names = ["\\u0000", "\\ud800", "a\\nb", "\\u202e"]
    bodies = [f'{{"subscriberIdString": "jane@example.com", "{name}": 1, "{name}": 2}}' for name in names]

    # When the batch is handled
    retried = failed_ids(invoke(sqs_event(function_stack, bodies)))

    # Then every one is parked at once with its reason, none left to burn its receives
    assert retried == set()
    parked = dead_letters(function_stack)
    assert [item["reason"] for item in parked] == ["DUPLICATE_KEY"] * len(names)
    assert all(item["detail"].isprintable() for item in parked)
