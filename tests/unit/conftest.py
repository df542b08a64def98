"""The domain on the HubSpot sandbox and an in-memory idempotency store: no moto, no AWS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aws_lambda_powertools import Metrics

from local.hubspot_sandbox import ALL_SCOPES, HubSpotSandbox, SandboxConfig
from optout.domain.service import UnsubscribeService
from optout.domain.unsubscribe_rule import BatchMode, UnsubscribeRule
from optout.hubspot.client import HubSpotClient
from optout.hubspot.retry import RetryPolicy
from optout.hubspot.token_source import StaticToken
from optout.hubspot.transport import ClientConfig
from optout.observability import MetricsRecorder
from tests.in_memory_store import InMemoryIdempotencyStore


@dataclass(frozen=True)
class Domain:
    hubspot: HubSpotSandbox
    client: HubSpotClient
    store: InMemoryIdempotencyStore
    metrics: Metrics

    def client_for(self, token: str) -> HubSpotClient:
        return make_client(self.hubspot, token)

    def rule(self, batch_mode: BatchMode = BatchMode.AUTO) -> UnsubscribeRule:
        return UnsubscribeRule(self.client, batch_mode=batch_mode, max_concurrency=4)

    def service(self, batch_mode: BatchMode = BatchMode.AUTO) -> UnsubscribeService:
        return UnsubscribeService(self.rule(batch_mode), self.store, MetricsRecorder(self.metrics))

    def counts(self) -> dict[str, float]:
        """Each metric's total so far."""
        return {name: sum(metric["Value"]) for name, metric in self.metrics.metric_set.items()}


def make_client(hubspot: HubSpotSandbox, token: str) -> HubSpotClient:
    return HubSpotClient(
        StaticToken(token),
        ClientConfig(base_url=hubspot.base_url),
        retry=RetryPolicy(base_delay_s=0.01, max_delay_s=0.05),
    )


@pytest.fixture
def domain(hubspot_sandbox: HubSpotSandbox, hubspot_token: str) -> Iterator[Domain]:
    client = make_client(hubspot_sandbox, hubspot_token)
    metrics = Metrics(namespace="UnitTests", service="unit")
    metrics.clear_metrics()
    yield Domain(hubspot_sandbox, client, InMemoryIdempotencyStore(), metrics)
    metrics.clear_metrics()


BUSY_TOKEN = f"busy-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def busy_sandbox() -> Iterator[HubSpotSandbox]:
    """One sandbox, without a rate limit, for every example of a property: each finds its own calls
    by counting the call log from where it started."""
    with HubSpotSandbox(SandboxConfig(tokens={BUSY_TOKEN: ALL_SCOPES}, rate_limit=1_000_000)) as hubspot:
        yield hubspot


@pytest.fixture(scope="module")
def busy_client(busy_sandbox: HubSpotSandbox) -> HubSpotClient:
    """The real client on `busy_sandbox`, making one attempt a call."""
    return HubSpotClient(
        StaticToken(BUSY_TOKEN),
        ClientConfig(base_url=busy_sandbox.base_url),
        retry=RetryPolicy(max_attempts=1),
    )
