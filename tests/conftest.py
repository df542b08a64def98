"""Fixtures shared by every test tier: the HubSpot sandbox, moto, and the function's stack on them."""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest

from local.aws.moto_endpoint import MotoEndpoint
from local.aws.permissions import check_stack_calls, moto_lookup
from local.aws.resources import (
    LocalResources,
    QueueOverrides,
    TemplateReader,
    create_resources,
    function_environment,
)
from local.hubspot_sandbox import ALL_SCOPES, HubSpotSandbox, SandboxConfig
from local.runners.api_contract import CHECK_VARIABLE, AnswerContract
from local.runners.api_gateway import ApiGateway
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_context import LocalLambdaContext
from local.runners.lambda_invoker import LambdaInvoker


def _set_lambda_environment() -> None:
    """As on Lambda, the template's static settings are in the environment before `app` is imported
    (Powertools reads the service name and metrics namespace when its objects are created)."""
    for name, value in TemplateReader.from_file().function_globals()["Environment"]["Variables"].items():
        if isinstance(value, str):
            os.environ.setdefault(name, value)
    # Every local API the suite starts, in this process or in a `make run` it spawns, checks each
    # answer against openapi.yaml (local/runners/api_contract.py).
    os.environ[CHECK_VARIABLE] = "1"


# When this root conftest is imported, before any other (tests/unit's imports the function's
# Powertools objects), whatever paths pytest is given.
_set_lambda_environment()


@pytest.fixture
def hubspot_token() -> str:
    """A bearer token the `hubspot_sandbox` accepts with every scope."""
    return f"sandbox-{uuid.uuid4().hex}"


@pytest.fixture
def hubspot_sandbox(hubspot_token: str) -> Iterator[HubSpotSandbox]:
    """A local HubSpot on a free loopback port, reset for each test; see local/hubspot_sandbox."""
    with HubSpotSandbox(SandboxConfig(tokens={hubspot_token: ALL_SCOPES})) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[MotoEndpoint]:
    """moto over HTTP on a free port, one per test process; tests keep apart by resource names."""
    with MotoEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> boto3.session.Session:
    """boto3 pointed at moto (through the standard environment variables) for this test."""
    for name, value in moto_endpoint.environment().items():
        monkeypatch.setenv(name, value)
    return boto3.session.Session()


@dataclass(frozen=True)
class FunctionStack:
    """The function's resources on moto and its environment, as template.yaml describes them."""

    resources: LocalResources
    environment: dict[str, str]
    hubspot: HubSpotSandbox
    session: boto3.session.Session


@pytest.fixture
def queue_overrides() -> QueueOverrides:
    """Override in a test module to shorten the template's queue timeouts."""
    return QueueOverrides()


@pytest.fixture
def function_stack(
    *,
    aws: boto3.session.Session,
    moto_endpoint: MotoEndpoint,
    hubspot_sandbox: HubSpotSandbox,
    hubspot_token: str,
    queue_overrides: QueueOverrides,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FunctionStack]:
    """A fresh stack per test, with the function's environment set in os.environ, and a cold
    container: the handler builds its runtime from that environment on the first invocation.

    Afterwards, every AWS call the function, the event source and the operator CLI made on the
    stack's resources is checked against the policies template.yaml gives them (IAM is not
    enforced locally): a call it does not allow fails the test."""
    import app  # noqa: PLC0415 - only after pytest_configure has set Powertools' environment

    reader = TemplateReader.from_file()
    resources = create_resources(
        reader, f"t{uuid.uuid4().hex[:12]}", hubspot_token, overrides=queue_overrides
    )
    environment = function_environment(reader, resources, hubspot_sandbox.base_url)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app.current_runtime.cache_clear()
    app.current_api.cache_clear()
    moto_endpoint.calls.clear()
    yield FunctionStack(resources, environment, hubspot_sandbox, aws)
    app.current_runtime.cache_clear()
    app.current_api.cache_clear()
    problems = check_stack_calls(moto_endpoint.calls.calls(), resources, moto_lookup(aws, moto_endpoint.url))
    assert not problems, "AWS calls template.yaml does not allow:\n" + "\n".join(map(str, problems))


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext()


@pytest.fixture
def function_logs() -> Iterator[io.StringIO]:
    """Everything the function logs (formatted as in Lambda: JSON lines, addresses masked)."""
    from optout.observability import logger  # noqa: PLC0415 - after pytest_configure, as `app`

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    original = handler.setStream(captured)
    yield captured
    handler.setStream(original)


@pytest.fixture(scope="session")
def function_definition() -> FunctionDefinition:
    """What template.yaml says about the function and its triggers (timeout, batch size, routes)."""
    return FunctionDefinition.from_template(TemplateReader.from_file(), "local-test")


@pytest.fixture
def local_api(
    function_definition: FunctionDefinition, lambda_invoker: LambdaInvoker, moto_endpoint: MotoEndpoint
) -> Iterator[ApiGateway]:
    """The local REST API in front of the real handler on `function_stack`, every answer checked
    against openapi.yaml (one that departs from it becomes a 500 no caller accepts), its callers'
    execute-api:Invoke recorded for the permission check."""
    with ApiGateway(
        lambda_invoker,
        function_definition.api_routes,
        function_definition.api_stage,
        port=0,
        calls=moto_endpoint.calls,
        contract=AnswerContract.load(),
    ) as gateway:
        yield gateway
    assert gateway.contract_violations == []


@pytest.fixture
def lambda_invoker(
    function_stack: FunctionStack, function_definition: FunctionDefinition
) -> Iterator[LambdaInvoker]:
    """The real handler, invoked as Lambda invokes it (fresh environments), on `function_stack`."""
    invoker = LambdaInvoker(function_definition)
    yield invoker
    invoker.close()
