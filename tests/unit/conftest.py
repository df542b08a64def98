"""The domain on the HubSpot sandbox and an in-memory idempotency store: no moto, no AWS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aws_lambda_powertools import Metrics

from local.hubspot_sandbox import HubSpotSandbox
from optout.domain.service import UnsubscribeService
from optout.domain.unsubscribe_rule import BatchMode, UnsubscribeRule
from optout.hubspot.client import ClientConfig, HubSpotClient
from optout.hubspot.retry import RetryPolicy
from optout.hubspot.token_source import StaticToken
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
