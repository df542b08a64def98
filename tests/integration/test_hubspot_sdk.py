"""HubSpot's own pre-release SDK (`hubspot-sdk`, pinned in bench/requirements-sdk.txt) against the
local API's facade: single and batch unsubscribe-all and the status read, verbose and terse.

The SDK lives in its own venv (.venv-bench-sdk, which `make test` builds first), so the calls run
there, in a subprocess (hubspot_sdk_calls.py), against the local API Gateway serving the real
handler on moto and the sandbox. The SDK validates each answer with its pydantic models; the
local API checks each against openapi.yaml too. Without the SDK venv the test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.runners.api_gateway import ApiGateway
from tests.conftest import FunctionStack

ROOT = Path(__file__).resolve().parents[2]
SDK_PYTHON = ROOT / ".venv-bench-sdk" / "bin" / "python"
CALLS = Path(__file__).resolve().parent / "hubspot_sdk_calls.py"
SDK_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    probe = (
        subprocess.run(
            [str(SDK_PYTHON), "-c", "import hubspot_sdk"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if SDK_PYTHON.is_file()
        else None
    )
    if probe is None or probe.returncode != 0:
        reason = "no such interpreter" if probe is None else probe.stderr.strip().splitlines()[-1]
        pytest.skip(
            f"hubspot-sdk is not installed in .venv-bench-sdk ({reason}): `make test` builds it "
            "(make .venv-bench-sdk/.installed) when PyPI is reachable"
        )
    return SDK_PYTHON


def sdk_calls(python: Path, spec: dict[str, Any]) -> dict[str, Any]:
    # Only what the interpreter needs: no proxy, no AWS or HubSpot variables of this process.
    environment = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "*", "HOME": os.environ.get("HOME", "/")}
    completed = subprocess.run(
        [str(python), str(CALLS), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=SDK_TIMEOUT_S,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_hubspots_sdk_unsubscribes_and_reads_through_the_facade(
    sdk_python: Path, function_stack: FunctionStack, local_api: ApiGateway
) -> None:
    # Given the local API in front of the function, and addresses for each call
    spec = {
        "baseUrl": local_api.url,
        "single": "sdk.single@example.com",
        "terse": "sdk.terse@example.com",
        "batch": ["sdk.batch.1@example.com", "sdk.batch.2@example.com", "not an address"],
        "terseBatch": ["sdk.batch.3@example.com"],
    }

    # When HubSpot's SDK makes each call, as its README shows, validating every answer strictly
    calls = sdk_calls(sdk_python, spec)

    # Then each answer parsed as the SDK's model of HubSpot's schema, with what was asked for
    single, terse = calls["single"], calls["terse"]
    assert single["model"] == terse["model"] == "ActionResponseWithResultsPublicStatus"
    assert single["fields"]["status"] == "COMPLETE"
    assert {status["subscriberIdString"] for status in single["fields"]["results"]} == {spec["single"]}
    assert {status["status"] for status in single["fields"]["results"]} == {"UNSUBSCRIBED"}
    assert terse["fields"]["results"] == []

    batch, terse_batch = calls["batch"], calls["terseBatch"]
    assert batch["model"] == terse_batch["model"] == "BatchResponsePublicBulkOptOutFromAllResponse"
    assert [result["subscriberIdString"] for result in batch["fields"]["results"]] == spec["batch"][:2]
    assert batch["fields"]["numErrors"] == 1
    assert batch["fields"]["errors"][0]["context"] == {"subscriberIdString": ["not an address"]}
    assert terse_batch["fields"]["results"] == []

    read, terse_read = calls["read"], calls["terseRead"]
    assert read["model"] == terse_read["model"] == "ActionResponseWithResultsPublicWideStatus"
    assert [(status["subscriberIdString"], status["status"]) for status in read["fields"]["results"]] == [
        (spec["single"], "UNSUBSCRIBED")
    ]
    assert terse_read["fields"]["results"] == []

    # And HubSpot unsubscribed each valid address exactly once
    valid = [spec["single"], spec["terse"], *spec["batch"][:2], *spec["terseBatch"]]
    assert function_stack.hubspot.successful_unsubscribes() == dict.fromkeys(valid, 1)
