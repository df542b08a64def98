"""boto3 clients, built from one shared session on first use and reused by every invocation.

Nothing is created at import: cold start pays only for the clients a path needs, and tests
point everything at moto through the standard AWS_ENDPOINT_URL without code changes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# Fail fast and let the queue retry, rather than outwait a Lambda timeout inside botocore.
_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
    # One connection per record thread of a full batch, so none waits for another's socket.
    max_pool_connections=128,
)


class AwsClients:
    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._session = self._session or boto3.session.Session()
                self._clients[service] = self._session.client(service, config=_CONFIG)  # type: ignore[call-overload]
            return self._clients[service]

    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb")
        return client

    def sqs(self) -> SQSClient:
        client: SQSClient = self._client("sqs")
        return client

    def secretsmanager(self) -> SecretsManagerClient:
        client: SecretsManagerClient = self._client("secretsmanager")
        return client
