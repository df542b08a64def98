"""The whole service on one machine: moto, the HubSpot sandbox, the function and its two triggers.

Brought up in Lambda's order: the AWS resources from template.yaml on moto, the function's
environment (the template's, pointed at the local resources) in `os.environ`, then the
handler imported from the template's CodeUri/Handler, then the SQS event source and the REST
API in front of it. With a real HubSpot token (HUBSPOT_TOKEN, and optionally HUBSPOT_BASE_URL)
the sandbox is left out and the function talks to that HubSpot. While up, the stack's
addresses are in `<run dir>/local-stack.json`; stopping undoes everything, environment included.
With UNSUBSCRIBE_ALL_CHECK_API_ANSWERS=1 (the test suite and `make soak` set it) the REST API
checks every answer against openapi.yaml (local/runners/api_contract.py).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import boto3

from local.aws.moto_endpoint import REGION, MotoEndpoint
from local.aws.permissions import Problem, check_stack_calls, moto_lookup
from local.aws.resources import (
    LocalResources,
    QueueOverrides,
    TemplateReader,
    create_resources,
    function_environment,
)
from local.hubspot_sandbox import ALL_SCOPES, HubSpotSandbox, SandboxConfig
from local.lifecycle import StartStop
from local.runners.api_contract import AnswerContract, answers_checked
from local.runners.api_gateway import DEFAULT_PORT, ApiGateway
from local.runners.function_definition import FunctionDefinition
from local.runners.lambda_invoker import LambdaInvoker
from local.runners.sqs_event_source import CLIENT_CONFIG as EVENT_SOURCE_CLIENT
from local.runners.sqs_event_source import QueueRef, SqsEventSource, TimeoutOverride
from local.stack_state import DEFAULT_RUN_DIR, STATE_FILE_NAME, StackState, remove_state, write_state

STACK_NAME = "hubspot-unsubscribe-all-local"
HUBSPOT_BASE_URL_PARAMETER = "HubSpotBaseUrl"


@dataclass(frozen=True)
class StackOptions:
    api_port: int = DEFAULT_PORT
    run_dir: Path = DEFAULT_RUN_DIR
    hubspot_token: str | None = None  # a real HubSpot's token: no sandbox, real data changes
    hubspot_base_url: str | None = None  # with hubspot_token; the template's default otherwise
    queue_overrides: QueueOverrides | None = None
    timeout_override: TimeoutOverride | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], *, api_port: int, run_dir: Path) -> StackOptions:
        """Options from HUBSPOT_TOKEN / HUBSPOT_BASE_URL (empty counts as unset)."""
        return cls(
            api_port=api_port,
            run_dir=run_dir,
            hubspot_token=environ.get("HUBSPOT_TOKEN") or None,
            hubspot_base_url=environ.get("HUBSPOT_BASE_URL") or None,
        )

    @property
    def state_file(self) -> Path:
        return self.run_dir / STATE_FILE_NAME


class LocalStack(StartStop):
    """Use as a context manager; the attributes exist while the stack is up."""

    moto: MotoEndpoint
    sandbox: HubSpotSandbox | None  # None against a real HubSpot
    hubspot_token: str
    hubspot_base_url: str
    session: boto3.session.Session
    resources: LocalResources
    function: FunctionDefinition
    environment: dict[str, str]  # the function's, as the template sets it
    event_source: SqsEventSource
    api: ApiGateway

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self._running = ExitStack()

    def start(self) -> None:
        # moto's web server logs every request it serves; the function's own logs say more.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        with ExitStack() as starting:
            self.moto = starting.enter_context(MotoEndpoint())
            starting.callback(_restore_environment, _set_environment(self.moto.environment()))
            reader = TemplateReader.from_file()
            self._start_hubspot(starting, reader)
            self.session = boto3.session.Session()
            self.resources = create_resources(
                reader,
                # moto keeps its state per process, not per endpoint: names must not meet an earlier stack's.
                f"{STACK_NAME}-{uuid.uuid4().hex[:8]}",
                self.hubspot_token,
                overrides=self.options.queue_overrides,
                session=self.session,
            )
            self.environment = function_environment(reader, self.resources, self.hubspot_base_url)
            starting.callback(_restore_environment, _set_environment(self.environment))
            self.function = FunctionDefinition.from_template(reader, STACK_NAME)
            invoker = LambdaInvoker(self.function)
            starting.callback(invoker.close)
            invoker.warm_up()
            self.event_source = starting.enter_context(
                SqsEventSource(
                    self.session.client("sqs", config=EVENT_SOURCE_CLIENT),
                    QueueRef(self.resources.queue_url, self.resources.queue_arn, REGION),
                    invoker,
                    self.function.sqs_trigger,
                    timeout_override=self.options.timeout_override,
                )
            )
            self.api = starting.enter_context(
                ApiGateway(
                    invoker,
                    self.function.api_routes,
                    self.function.api_stage,
                    port=self.options.api_port,
                    calls=self.moto.calls,
                    contract=AnswerContract.load() if answers_checked(os.environ) else None,
                )
            )
            state = self.state()
            write_state(self.options.state_file, state)
            starting.callback(remove_state, self.options.state_file, state)
            self._running = starting.pop_all()

    def stop(self) -> None:
        """Stops everything in the reverse order; safe to call twice."""
        self._running.close()

    def aws_calls_not_allowed(self) -> list[Problem]:
        """The function's, the event source's and the CLI's calls so far that template.yaml does
        not allow (see local/aws/permissions.py)."""
        lookup = moto_lookup(self.session, self.moto.url)
        return check_stack_calls(self.moto.calls.calls(), self.resources, lookup)

    def state(self) -> StackState:
        return StackState(
            aws_endpoint_url=self.moto.url,
            region=REGION,
            queue_url=self.resources.queue_url,
            dead_letter_queue_url=self.resources.dead_letter_queue_url,
            api_url=self.api.url,
            hubspot_base_url=self.hubspot_base_url,
        )

    def _start_hubspot(self, starting: ExitStack, reader: TemplateReader) -> None:
        if self.options.hubspot_token is not None:
            self.sandbox = None
            self.hubspot_token = self.options.hubspot_token
            default_base_url = reader.parameters[HUBSPOT_BASE_URL_PARAMETER]
            self.hubspot_base_url = self.options.hubspot_base_url or default_base_url
            return
        self.hubspot_token = f"local-{uuid.uuid4().hex}"
        self.sandbox = starting.enter_context(
            HubSpotSandbox(SandboxConfig(tokens={self.hubspot_token: ALL_SCOPES}))
        )
        self.hubspot_base_url = self.sandbox.base_url


def _set_environment(variables: Mapping[str, str]) -> dict[str, str | None]:
    """Sets the variables; returns what they were before (None: unset)."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    return previous


def _restore_environment(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
