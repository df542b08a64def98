"""The naive baseline: the textbook Powertools SQS handler, one HubSpot call per record.

`BatchProcessor` with `idempotent_function` on each record (keyed on the message id, stored in
DynamoDB), a plain urllib3 call per record, one after another, and everything built at import,
as the Powertools documentation shows it. Self-contained (Powertools, boto3 and urllib3 only), so
the probe can load it beside a deployment package. Reads the function's own environment names.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import urllib3
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

processor = BatchProcessor(event_type=EventType.SQS)
persistence_layer = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
config = IdempotencyConfig(event_key_jmespath="messageId")
http = urllib3.PoolManager()
BASE_URL = os.environ["HUBSPOT_BASE_URL"]
TOKEN = parameters.get_secret(os.environ["HUBSPOT_TOKEN_SECRET_ID"], transform="json")["token"]


# Powertools leaves this decorator untyped.
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="record", config=config, persistence_store=persistence_layer
)
def record_handler(record: SQSRecord) -> dict[str, Any]:
    email = json.loads(record.body)["subscriberIdString"]
    path = f"/communication-preferences/v4/statuses/{quote(email, safe='')}/unsubscribe-all"
    response = http.request(
        "POST", f"{BASE_URL}{path}?channel=EMAIL", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    if response.status >= 400:
        raise RuntimeError(f"HubSpot answered {response.status}")
    return {"status": response.status}


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
