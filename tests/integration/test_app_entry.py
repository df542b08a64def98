"""The Lambda entry point: what it does at import, with a bad setting, and with a foreign event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app
from tests.integration.function_harness import invoke

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
        "POWERTOOLS_TRACE_DISABLED": "true",
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
