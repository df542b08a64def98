"""The AWS calls made in this process while inside `recorded()`: service, operation, start and end.

The function runs in-process for the throughput figure and builds its own boto3 clients, out of
the benchmark's reach; botocore's one method every client call goes through is wrapped while
recording (and put back afterwards), so the store's calls can be timed apart from HubSpot's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient


@dataclass(frozen=True)
class AwsCall:
    service: str
    operation: str
    started: float  # time.time()
    ended: float


@contextmanager
def recorded() -> Iterator[list[AwsCall]]:
    calls: list[AwsCall] = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def timed(client: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
        started = time.time()
        try:
            return original(client, operation, parameters)
        finally:
            service = client.meta.service_model.service_name
            calls.append(AwsCall(service, operation, started, time.time()))

    BaseClient._make_api_call = timed  # type: ignore[attr-defined]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]
