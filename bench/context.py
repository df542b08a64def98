"""What every figure gets: the plan, the running servers, boto3 on moto, the packages to probe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3

from bench.packages import Packages
from bench.plan import Plan
from bench.servers import Servers
from bench.stacks import Stack, create_stack

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class Bench:
    plan: Plan
    servers: Servers
    session: boto3.session.Session
    packages: Packages
    # A fresh process's environment before a stack's own variables: moto, Powertools' globals.
    process_environment: Mapping[str, str]

    def sqs(self) -> SQSClient:
        client: SQSClient = self.session.client("sqs")
        return client

    def stack(self, **parameters: str) -> Stack:
        """New resources for one scenario, with these template parameters."""
        return create_stack(self.servers, self.session, parameters)

    def fresh_sandbox(self, **settings: float) -> None:
        """An empty call log and no opt-outs, with these settings (latency, limits)."""
        self.servers.sandbox.reset()
        if settings:
            self.servers.sandbox.configure(**settings)
