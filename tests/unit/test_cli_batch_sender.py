"""SendMessageBatch retries: entries SQS reports as failed are sent again, with backoff, until
sent; a sender fault or a batch that keeps failing stops, saying how much of it got through.

SQS's per-entry failures cannot be provoked on moto, so a recording stand-in for the client
answers here, in SendMessageBatch's documented shape."""

from __future__ import annotations

from typing import Any

import pytest

from operator_cli.batch_sender import BatchSender, Message, RetryPolicy, SendFailedError


class ScriptedSqs:
    """Fails the entries named for each successive call, acknowledging the rest."""

    def __init__(self, *failures: dict[str, bool]) -> None:
        self._failures = list(failures)
        self.calls: list[list[str]] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append([entry["Id"] for entry in Entries])
        failing = self._failures.pop(0) if self._failures else {}
        return {
            "Successful": [
                {"Id": e["Id"], "MessageId": "m", "MD5OfMessageBody": "x"}
                for e in Entries
                if e["Id"] not in failing
            ],
            "Failed": [
                {
                    "Id": e["Id"],
                    "SenderFault": failing[e["Id"]],
                    "Code": "InternalError" if not failing[e["Id"]] else "InvalidParameterValue",
                }
                for e in Entries
                if e["Id"] in failing
            ],
        }


def messages(count: int) -> list[Message]:
    return [Message(f"line-{n}", f"body {n}") for n in range(1, count + 1)]


def sender(sqs: ScriptedSqs, sleeps: list[float], attempts: int = 4) -> BatchSender:
    policy = RetryPolicy(attempts=attempts, base_delay_s=0.1, max_delay_s=1.0)
    return BatchSender(sqs, "q", policy, sleeps.append)  # type: ignore[arg-type]


def test_entries_sqs_failed_are_retried_alone_after_a_backoff():
    # Given SQS failing entries 2 and 3 once, then entry 3 once more
    sqs = ScriptedSqs({"line-2": False, "line-3": False}, {"line-3": False})
    sleeps: list[float] = []

    # When a batch of three is sent
    sender(sqs, sleeps).send(messages(3))

    # Then only the failed entries went again, after growing, bounded waits
    assert sqs.calls == [["line-1", "line-2", "line-3"], ["line-2", "line-3"], ["line-3"]]
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.2
    assert 0 <= sleeps[1] <= 0.4


def test_a_batch_that_keeps_failing_stops_saying_how_many_leading_messages_got_through():
    # Given SQS failing entry 3 of 4 every time
    sqs = ScriptedSqs(*[{"line-3": False}] * 4)

    # When the batch is sent
    with pytest.raises(SendFailedError) as failure:
        sender(sqs, [], attempts=4).send(messages(4))

    # Then it gave up after the attempts, and says two leading messages are on the queue
    assert len(sqs.calls) == 4
    assert failure.value.acknowledged == 2
    assert "1 message(s) 4 times (InternalError)" in str(failure.value)


def test_an_entry_refused_as_the_senders_fault_is_not_retried():
    sqs = ScriptedSqs({"line-1": True})
    with pytest.raises(SendFailedError, match="InvalidParameterValue") as failure:
        sender(sqs, []).send(messages(2))
    assert len(sqs.calls) == 1
    assert failure.value.acknowledged == 0


def test_more_than_ten_messages_are_refused_before_any_call():
    sqs = ScriptedSqs()
    with pytest.raises(ValueError, match="at most 10"):
        sender(sqs, []).send(messages(11))
    assert sqs.calls == []
