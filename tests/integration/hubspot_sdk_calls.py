"""HubSpot's pre-release Python SDK (`hubspot-sdk`) calling the service's facade; run in .venv-bench-sdk.

    .venv-bench-sdk/bin/python tests/integration/hubspot_sdk_calls.py SPEC_JSON

SPEC_JSON: {"baseUrl", "single", "terse", "batch": [...], "terseBatch": [...]}. Each call goes
through the SDK as its README shows it, with strict response validation on, so every answer is
parsed by the SDK's pydantic models: a missing required field, a value outside an enum or a time
that is not one fails the call. Prints one JSON document: each call's model name and its fields
(by their JSON names). An SDK error ends the script with a traceback and exit code 1.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hubspot_sdk import HubSpot  # type: ignore[import-not-found]

# The facade ignores the token (the service holds HubSpot's); the SDK requires one.
NOT_A_TOKEN = "the-service-holds-the-token"


def parsed(model: Any) -> dict[str, Any]:
    return {"model": type(model).__name__, "fields": model.model_dump(mode="json", by_alias=True)}


def main(spec: dict[str, Any]) -> dict[str, Any]:
    client = HubSpot(
        access_token=NOT_A_TOKEN, base_url=spec["baseUrl"], max_retries=0, _strict_response_validation=True
    )
    preferences = client.communication_preferences
    batch = preferences.statuses.batch
    return {
        "single": parsed(preferences.unsubscribe_all(spec["single"], channel="EMAIL", verbose=True)),
        "terse": parsed(preferences.unsubscribe_all(spec["terse"], channel="EMAIL")),
        "batch": parsed(batch.unsubscribe_all(channel="EMAIL", inputs=spec["batch"], verbose=True)),
        "terseBatch": parsed(batch.unsubscribe_all(channel="EMAIL", inputs=spec["terseBatch"])),
        "read": parsed(preferences.get_unsubscribe_all_status(spec["single"], channel="EMAIL", verbose=True)),
        "terseRead": parsed(preferences.get_unsubscribe_all_status(spec["single"], channel="EMAIL")),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(json.loads(sys.argv[1]))) + "\n")
