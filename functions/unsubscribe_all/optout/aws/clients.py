"""boto3 clients, built from one shared session on first use and reused by every invocation.

Nothing is created at import: cold start pays only for the clients a path needs, and tests
point everything at moto through the standard AWS_ENDPOINT_URL without code changes. Every
client's calls end by the deadline its `budget` holds (see `call_budget`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from optout.aws.call_budget import CONNECT_TIMEOUT_S, READ_TIMEOUT_S, CallBudget

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# In the User-Agent of every call ("app/..."), so CloudTrail (and the local permission check)
# can tell the function's calls from others made with the same role.
USER_AGENT_APP_ID = "hubspot-unsubscribe-all"
# Short attempts, so the budget can end a call by its deadline; retries only while they fit.
_CONFIG = Config(
    user_agent_appid=USER_AGENT_APP_ID,  # type: ignore[call-arg]  # botocore-stubs lag botocore
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
    retries={"mode": "standard", "max_attempts": 3},
    # One connection per record thread of a full batch, so none waits for another's socket.
    max_pool_connections=128,
)


class AwsClients:
    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.budget = CallBudget()

    def _client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._session = self._session or boto3.session.Session()
                client = self._session.client(service, config=_CONFIG)  # type: ignore[call-overload]
                self.budget.watch(client)
                self._clients[service] = client
            return self._clients[service]

    def close_connections(self) -> None:
        """Closes the clients' pooled connections; each opens new ones on its next call."""
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.close()

    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb")
        return client

    def sqs(self) -> SQSClient:
        client: SQSClient = self._client("sqs")
        return client

    def kms(self) -> KMSClient:
        client: KMSClient = self._client("kms")
        return client

    def secretsmanager(self) -> SecretsManagerClient:
        client: SecretsManagerClient = self._client("secretsmanager")
        return client
