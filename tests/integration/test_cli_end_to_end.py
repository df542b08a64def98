"""The CLI against the whole local service: the real handler behind the local SQS event source and
the local REST API, on moto and the HubSpot sandbox. What the operator relies on, end to end:
a line enqueued twice (a crash between SQS's acknowledgement and the checkpoint) still costs one
HubSpot call, and `status` reads the result back through the service's own API."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest

from local.aws.moto_endpoint import REGION
from local.runners.api_gateway import ApiGateway
from local.runners.sqs_event_source import CLIENT_CONFIG as EVENT_SOURCE_CLIENT
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
    *,
    function_stack,
    function_definition,
    lambda_invoker,
    local_api: ApiGateway,
    moto_endpoint,
    tmp_path,
    capsys,
):
    # Given the function behind its local queue trigger and API, and a list of 25 addresses
    resources = function_stack.resources
    addresses = [f"leaver.{n}@example.com" for n in range(1, 26)]
    path = tmp_path / "leavers.txt"
    path.write_text("".join(f"{address}\n" for address in addresses))
    queue = QueueRef(resources.queue_url, resources.queue_arn, REGION)
    sqs = function_stack.session.client("sqs")
    # Lambda's polling and the API's execute-api:Invoke are checked against the template too
    polling = function_stack.session.client("sqs", config=EVENT_SOURCE_CLIENT)
    with SqsEventSource(polling, queue, lambda_invoker, function_definition.sqs_trigger) as source:
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
        # (a call the function_stack fixture checks against the OperatorPolicy, as every other)
        invoked = [call for call in moto_endpoint.calls.calls() if call.service == "execute-api"]
        assert [(call.principal, call.parameter("Method")) for call in invoked] == [
            ("unsubscribe-all-cli", "GET")
        ]


def test_addresses_only_a_fold_makes_equal_are_two_opt_outs_each_sent_as_its_exact_string(
    function_stack, function_definition, lambda_invoker, tmp_path, capsys
):
    # Given the function behind its local queue trigger and API, and a CSV holding straße@ and
    # strasse@ (equal after casefold, two people to HubSpot) and STRASSE@ (strasse@ to HubSpot)
    resources = function_stack.resources
    path = tmp_path / "leavers.csv"
    path.write_text("email\nstraße@example.de\nstrasse@example.de\nSTRASSE@example.de\n", encoding="utf-8")
    queue = QueueRef(resources.queue_url, resources.queue_arn, REGION)
    sqs = function_stack.session.client("sqs")
    with (
        SqsEventSource(sqs, queue, lambda_invoker, function_definition.sqs_trigger) as source,
        ApiGateway(
            lambda_invoker, function_definition.api_routes, function_definition.api_stage, port=0
        ) as api,
    ):
        state = write_local_state(tmp_path, sqs.meta.endpoint_url, resources, api_url=api.url)

        # When the operator enqueues the file and the queue drains
        assert main(["enqueue", str(path), "--local-state", str(state)]) == 0
        enqueued = capsys.readouterr().out
        assert source.wait_until_drained(DRAIN_TIMEOUT_S)

        # Then only STRASSE@ was a repeat, and HubSpot received each of the two as its exact string, once
        assert "lines 4 (as line 3)" in enqueued
        received = [
            subscriber
            for call in function_stack.hubspot.calls()
            for subscriber in (call.request.inputs or (call.request.subscriber,))
            if call.request.operation in {"unsubscribe-all", "batch-unsubscribe-all"}
        ]
        assert sorted(received) == ["strasse@example.de", "straße@example.de"]
        assert function_stack.hubspot.successful_unsubscribes() == {
            "straße@example.de": 1,
            "strasse@example.de": 1,
        }

        # And `status` says each is unsubscribed
        for address in ("straße@example.de", "strasse@example.de"):
            assert main(["status", address, "--local-state", str(state)]) == 0
            assert (
                f"{address}: UNSUBSCRIBED from all email (the default business unit)"
                in capsys.readouterr().out
            )
