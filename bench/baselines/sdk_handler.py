"""The hubspot-sdk baseline: the naive handler with HubSpot's official SDK in place of urllib3.

HubSpot's new Python SDK (httpx and pydantic, the 2026-03 paths), used as its README shows it:
one client built at import, one `unsubscribe_all` call per record. It lives in its own virtual
environment (`make bench` builds .venv-bench-sdk), so it is only ever run there, by the probe.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from hubspot_sdk import HubSpot  # type: ignore[import-not-found]

processor = BatchProcessor(event_type=EventType.SQS)
persistence_layer = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
config = IdempotencyConfig(event_key_jmespath="messageId")
client = HubSpot(
    access_token=parameters.get_secret(os.environ["HUBSPOT_TOKEN_SECRET_ID"], transform="json")["token"],
    base_url=os.environ["HUBSPOT_BASE_URL"],
)


# Powertools leaves this decorator untyped.
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="record", config=config, persistence_store=persistence_layer
)
def record_handler(record: SQSRecord) -> dict[str, Any]:
    email = json.loads(record.body)["subscriberIdString"]
    answer = client.communication_preferences.unsubscribe_all(email, channel="EMAIL")
    return {"status": answer.status}


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
