"""`unsubscribe-all dlq` and `dlq redrive` against the stack's queues on moto over HTTP.

The dead letters are parked by the function's own DeadLetterQueue, so they carry exactly the
attributes the function writes; one is sent bare, as SQS's redrive policy leaves them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.aws.moto_endpoint import MotoEndpoint
from operator_cli.dead_letters import NATIVE, PLAIN
from operator_cli.main import main
from optout.aws.dead_letters import DeadLetter, DeadLetterQueue
from optout.outcomes import Reason
from tests.integration.test_cli_support import bodies, drain, write_local_state


@pytest.fixture
def local_state(function_stack, moto_endpoint: MotoEndpoint, tmp_path: Path) -> Path:
    return write_local_state(tmp_path, moto_endpoint.url, function_stack.resources)


@pytest.fixture
def sqs(function_stack):
    return function_stack.session.client("sqs")


def park(function_stack, sqs, letters: list[tuple[str, Reason, str]]) -> None:
    resources = function_stack.resources
    queue = DeadLetterQueue(resources.dead_letter_queue_url, lambda: sqs)
    not_parked = queue.park(
        [
            DeadLetter(f"source-{index}", body, reason, detail, resources.queue_arn, "1")
            for index, (body, reason, detail) in enumerate(letters)
        ]
    )
    assert not not_parked


def request(email: str) -> str:
    return json.dumps({"subscriberIdString": email, "idempotencyKey": f"k-{email}"})


def test_dlq_lists_each_message_with_its_reason_and_a_masked_address_and_deletes_nothing(
    function_stack, local_state, sqs, capsys
):
    # Given a rejected request, an unparsable body, and one SQS moved after failed deliveries
    park(
        function_stack,
        sqs,
        [
            (
                request("jane.doe@example.com"),
                Reason.HUBSPOT_REJECTED,
                "HubSpot refused jane.doe@example.com",
            ),
            ("{not json", Reason.MALFORMED_JSON, "the body is not valid JSON"),
        ],
    )
    dlq_url = function_stack.resources.dead_letter_queue_url
    sqs.send_message(QueueUrl=dlq_url, MessageBody=request("bob@example.org"))

    # When the operator lists the DLQ
    code = main(["dlq", "--local-state", str(local_state)])

    # Then each message is shown with its reason, category and when it failed
    output = capsys.readouterr().out
    assert code == 0
    assert "j***@example.com  HUBSPOT_REJECTED (hubspot)" in output
    assert "detail: HubSpot refused j***@example.com" in output
    assert "-  MALFORMED_JSON (validation)" in output
    assert "b***@example.org  no reason attribute" in output
    assert "source message source-0" in output
    assert "failed at 20" in output
    assert output.rstrip().endswith("3 dead-lettered message(s)")
    # And no address is printed whole
    assert "jane.doe@example.com" not in output
    assert "bob@example.org" not in output
    # And every message is still there, visible again at once
    assert len(drain(sqs, dlq_url)) == 3


def test_dlq_list_stops_at_the_limit_and_says_how_many_there_are(function_stack, local_state, sqs, capsys):
    # Given three dead letters
    park(function_stack, sqs, [(request(f"p{n}@example.com"), Reason.INVALID_FIELD, "x") for n in range(3)])

    # When two are asked for
    code = main(["dlq", "--limit", "2", "--local-state", str(local_state)])

    # Then two are shown, and the total is given
    output = capsys.readouterr().out
    assert code == 0
    assert output.count("INVALID_FIELD (validation)") == 2
    assert "2 dead-lettered message(s) (the first 2; about 3 on the queue)" in output
    assert len(drain(sqs, function_stack.resources.dead_letter_queue_url)) == 3


def test_dlq_redrive_moves_every_message_back_to_the_queue_unchanged(
    function_stack, local_state, sqs, capsys
):
    # Given twelve dead letters (more than one batch)
    letters = [(request(f"p{n}@example.com"), Reason.HUBSPOT_REJECTED, f"detail {n}") for n in range(12)]
    park(function_stack, sqs, letters)

    # When they are redriven
    code = main(["dlq", "redrive", "--local-state", str(local_state)])

    # Then all twelve moved, by whichever means the endpoint has, and the output says which
    output = capsys.readouterr().out
    assert code == 0
    assert "moved 12 message(s) from the dead-letter queue to the queue" in output
    assert PLAIN in output or NATIVE in output
    # And the queue holds the same bodies, with their reasons, and the DLQ is empty
    moved = drain(sqs, function_stack.resources.queue_url)
    assert sorted(json.dumps(body, sort_keys=True) for body in bodies(moved)) == sorted(
        json.dumps(json.loads(body), sort_keys=True) for body, _, _ in letters
    )
    assert {message["MessageAttributes"]["reason"]["StringValue"] for message in moved} == {
        "HUBSPOT_REJECTED"
    }
    assert drain(sqs, function_stack.resources.dead_letter_queue_url) == []


def test_dlq_redrive_of_an_empty_dlq_moves_nothing(function_stack, local_state, sqs, capsys):
    # Given an empty DLQ
    # When it is redriven
    code = main(["dlq", "redrive", "--local-state", str(local_state)])

    # Then nothing moved, and the queue is still empty
    assert code == 0
    assert "moved 0 message(s)" in capsys.readouterr().out
    assert drain(sqs, function_stack.resources.queue_url) == []


def test_with_json_the_listing_and_the_redrive_are_one_document_each(
    function_stack, local_state, sqs, capsys
):
    # Given one rejected request on the DLQ
    park(function_stack, sqs, [(request("jane.doe@example.com"), Reason.HUBSPOT_REJECTED, "refused")])

    # When the operator lists it, then redrives it, with --json
    listed = main(["dlq", "--json", "--local-state", str(local_state)])
    listing = capsys.readouterr()
    redriven = main(["dlq", "redrive", "--json", "--local-state", str(local_state)])
    redrive = capsys.readouterr()

    # Then each stdout is one JSON document, the address masked, the text for people on stderr
    assert (listed, redriven) == (0, 0)
    document = json.loads(listing.out)
    assert (document["command"], document["listed"], document["limitReached"]) == ("dlq list", 1, False)
    (letter,) = document["letters"]
    assert (letter["subscriber"], letter["reason"], letter["category"]) == (
        "j***@example.com",
        "HUBSPOT_REJECTED",
        "hubspot",
    )
    assert "jane.doe@example.com" not in listing.out + listing.err
    assert "1 dead-lettered message(s)" in listing.err
    moved = json.loads(redrive.out)
    assert (moved["command"], moved["moved"], moved["status"]) == ("dlq redrive", 1, "COMPLETED")
    assert moved["method"] in {NATIVE, PLAIN}
    assert "moved 1 message(s)" in redrive.err
