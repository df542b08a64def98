"""Fixtures shared by every test tier."""

import uuid
from collections.abc import Iterator

import pytest

from local.hubspot_sandbox import ALL_SCOPES, HubSpotSandbox, SandboxConfig


@pytest.fixture
def hubspot_token() -> str:
    """A bearer token the `hubspot_sandbox` accepts with every scope."""
    return f"sandbox-{uuid.uuid4().hex}"


@pytest.fixture
def hubspot_sandbox(hubspot_token: str) -> Iterator[HubSpotSandbox]:
    """A local HubSpot on a free loopback port, reset for each test; see local/hubspot_sandbox."""
    with HubSpotSandbox(SandboxConfig(tokens={hubspot_token: ALL_SCOPES})) as sandbox:
        yield sandbox
