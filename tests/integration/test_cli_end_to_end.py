"""The CLI against the whole local service: the real handler behind the local SQS event source and
the local REST API, on moto and the HubSpot sandbox. What the operator relies on, end to end:
a line enqueued twice (a crash between SQS's acknowledgement and the checkpoint) still costs one
HubSpot call, and `status` reads the result back through the service's own API."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest

from local.aws.moto_endpoint import REGION
from local.runners.sqs_event_source import QueueRef, SqsEventSource
from operator_cli.batch_sender import BatchSender
from operator_cli.email_file import Address
from operator_cli.enqueue import EnqueueOptions, enqueue_file
from operator_cli.main import main
from tests.integration.test_cli_support import write_local_state

DRAIN_TIMEOUT_S = 120


class CrashError(Exception):
    """Where the process would die: after SQS took a batch, before the checkpoint recorded it."""


def test_a_batch_enqueued_twice_costs_one_hubspot_call_per_address_and_status_reads_it_back(
    function_stack, lambda_invoker, local_api, tmp_path, capsys
):
    # Given the function behind its local queue trigger and API, and a list of 25 addresses
    resources = function_stack.resources
    addresses = [f"leaver.{n}@example.com" for n in range(1, 26)]
    path = tmp_path / "leavers.txt"
    path.write_text("".join(f"{address}\n" for address in addresses))
    queue = QueueRef(resources.queue_url, resources.queue_arn, REGION)
    sqs = function_stack.session.client("sqs")
    with SqsEventSource(sqs, queue, lambda_invoker, lambda_invoker.function.sqs_trigger) as source:
        state = write_local_state(tmp_path, sqs.meta.endpoint_url, resources, api_url=local_api.url)
        acknowledged: list[Sequence[Address]] = []

        def crash_after_second_batch(batch: Sequence[Address]) -> None:
            acknowledged.append(batch)
            if len(acknowledged) == 2:
                raise CrashError

        # When a run crashes after SQS took its second batch, and the operator runs it again
        with pytest.raises(CrashError):
            enqueue_file(
                EnqueueOptions(path, resources.queue_url),
                BatchSender(sqs, resources.queue_url),
                io.StringIO(),
                on_acknowledged=crash_after_second_batch,
            )
        assert main(["enqueue", str(path), "--local-state", str(state)]) == 0
        assert "already sent (skipped on resume): 10" in capsys.readouterr().out
        assert source.wait_until_drained(DRAIN_TIMEOUT_S)

        # Then 35 messages were delivered (lines 11-20 twice), but HubSpot was asked once per address
        assert source.stats().messages_received >= 35
        assert function_stack.hubspot.successful_unsubscribes() == dict.fromkeys(addresses, 1)
        # And nothing was dead-lettered
        assert main(["dlq", "--local-state", str(state)]) == 0
        assert "0 dead-lettered message(s)" in capsys.readouterr().out

        # And the operator reads the result back through the service's API (the in-process
        # function writes its metrics to the same stdout)
        assert main(["status", "leaver.15@example.com", "--local-state", str(state)]) == 0
        assert (
            "leaver.15@example.com: UNSUBSCRIBED from all email (the default business unit)"
            in capsys.readouterr().out.splitlines()
        )
