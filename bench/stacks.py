"""The function's resources on the local AWS, once per scenario, and the environments that use them.

Every scenario gets resources of its own (queue, dead-letter queue, idempotency table, token
secret), created from template.yaml with its parameters as the scenario sets them, so no
scenario sees another's messages or idempotency records.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3

from bench.servers import Servers
from local.aws.resources import LocalResources, TemplateReader, create_resources, function_environment
from local.runners.function_definition import FunctionDefinition

BASELINES_DIR = Path(__file__).resolve().parent / "baselines"
NAIVE_HANDLER = "naive_handler.lambda_handler"
SDK_HANDLER = "sdk_handler.lambda_handler"
STACK_NAME = "bench"


@dataclass(frozen=True)
class Stack:
    resources: LocalResources
    # The function's environment as the template sets it (the baselines read the same names).
    environment: Mapping[str, str]
    function: FunctionDefinition

    def naive(self) -> FunctionDefinition:
        """The same function slot with the naive baseline's handler."""
        return dataclasses.replace(self.function, code_uri=BASELINES_DIR, handler=NAIVE_HANDLER)


def create_stack(
    servers: Servers, session: boto3.session.Session, parameters: Mapping[str, str] | None = None
) -> Stack:
    reader = TemplateReader.from_file(parameter_overrides=parameters)
    resources = create_resources(
        reader, f"bench-{uuid.uuid4().hex[:10]}", servers.hubspot_token, session=session
    )
    return Stack(
        resources,
        function_environment(reader, resources, servers.hubspot_base_url),
        FunctionDefinition.from_template(reader, STACK_NAME),
    )


def static_environment() -> dict[str, str]:
    """What Lambda sets before the handler's module is imported (the template's globals)."""
    variables = TemplateReader.from_file().function_globals()["Environment"]["Variables"]
    return {name: value for name, value in variables.items() if isinstance(value, str)}


@contextmanager
def environment_applied(variables: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` with these variables while inside, as it was afterwards."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
