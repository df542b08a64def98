"""The Lambda entry point: its import, a cold start, a bad setting, and a foreign event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider.cold_start import reset_cold_start_flag

import app
from local.runners.lambda_context import LocalLambdaContext
from tests.integration.function_harness import invoke, sqs_event

CODE_URI = Path(__file__).resolve().parents[2] / "functions" / "unsubscribe_all"

IMPORT_PROBE = """
import gc, json, sys, time
started = time.perf_counter()
import app
imported_in = time.perf_counter() - started
import botocore.client
clients = [o for o in gc.get_objects() if isinstance(o, botocore.client.BaseClient)]
built = app.current_runtime.cache_info().currsize
print(json.dumps({"import_ms": imported_in * 1000, "clients": len(clients), "runtime_built": built}))
"""


def test_importing_the_handler_creates_no_aws_client_and_reads_no_setting():
    # Given an environment with no settings, no credentials and an endpoint nobody listens on
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(CODE_URI),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }

    # When the handler module is imported in a fresh interpreter
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    # Then it imported without touching AWS or the settings (import time is measured by `make bench`)
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["clients"] == 0
    assert probe["runtime_built"] == 0
    assert probe["import_ms"] > 0


def test_a_missing_setting_fails_the_invocation_with_one_line_naming_it(
    function_stack, monkeypatch, function_logs
):
    # Given the table name is not set
    monkeypatch.delenv("IDEMPOTENCY_TABLE_NAME")

    # When the function is invoked, then it fails naming the variable, in one log line
    with pytest.raises(app.ConfigurationError, match="IDEMPOTENCY_TABLE_NAME is not set"):
        invoke({"Records": [{"eventSource": "aws:sqs"}]})
    [line] = [
        json.loads(line) for line in function_logs.getvalue().splitlines() if "invalid configuration" in line
    ]
    assert line["setting"] == "IDEMPOTENCY_TABLE_NAME"
    assert "Traceback" not in function_logs.getvalue()


def test_an_event_from_another_source_is_refused_clearly(function_stack):
    with pytest.raises(app.UnrecognisedEventError, match="SQS event or an API Gateway REST API"):
        invoke({"detail-type": "Scheduled Event", "source": "aws.events"})


def test_the_first_invocation_of_an_execution_environment_counts_a_cold_start(function_stack, capfd):
    # Given a fresh execution environment (Powertools keeps its cold-start flag per process)
    reset_cold_start_flag()
    first_event = sqs_event(function_stack, [{"subscriberIdString": "cold@example.com"}])
    second_event = sqs_event(function_stack, [{"subscriberIdString": "warm@example.com"}])
    capfd.readouterr()

    # When it is invoked twice
    invoke(first_event)
    first = emf_blobs(capfd.readouterr().out)
    invoke(second_event)
    second = emf_blobs(capfd.readouterr().out)

    # Then the first invocation alone counts a ColdStart, under the function's name
    [cold] = [blob for blob in first if "ColdStart" in blob]
    assert cold["ColdStart"] == [1.0]
    assert cold["function_name"] == LocalLambdaContext().function_name
    assert cold["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HubSpotUnsubscribeAll"
    assert [blob for blob in second if "ColdStart" in blob] == []
    assert any("Unsubscribed" in blob for blob in second)


def emf_blobs(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]
