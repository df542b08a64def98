"""Lambda entry point (template.yaml `Handler: app.lambda_handler`), for SQS and API Gateway.

Thin on purpose: recognise the trigger, hand the event to its adapter, return the answer. The
runtime (settings, clients, adapters) is built on the first invocation, never at import; with
SnapStart, before the snapshot instead (Lambda's runtime hooks, at the end of this module).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from optout.observability import logger, metrics
from optout.runtime import Runtime
from optout.settings import Settings, SettingsError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from optout.triggers.api import UnsubscribeApi


class ConfigurationError(Exception):
    """The function's environment is missing or has an invalid setting (named in the message)."""


class UnrecognisedEventError(Exception):
    """The event came from neither SQS nor an API Gateway REST API."""


@cache
def current_runtime() -> Runtime:
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        logger.error("invalid configuration", setting=error.name, problem=error.problem)
        raise ConfigurationError(str(error)) from None
    return Runtime.from_settings(settings)


@cache
def current_api() -> UnsubscribeApi:
    # Imported on the first API request: a container fed by the queue never pays for the resolver.
    from optout.triggers.api import UnsubscribeApi  # noqa: PLC0415
    from optout.triggers.one_click import OneClickRoutes  # noqa: PLC0415

    runtime = current_runtime()
    batch_size = runtime.settings.hubspot.batch_size
    one_click = OneClickRoutes(
        runtime.one_click, domain_name=runtime.settings.one_click.domain_name, batch_size=batch_size
    )
    return UnsubscribeApi(
        runtime.service, batch_size=batch_size, budget=runtime.aws_budget, one_click=one_click
    )


def prepare_for_snapshot() -> None:
    """Lambda's before-snapshot hook (SnapStart): all a first invocation builds, built into the
    snapshot, so that no restored copy builds it again. Nothing is called and nothing is read
    that must stay fresh (the token); bad settings fail the snapshot, so the deploy."""
    instrumented_handler()
    current_runtime().prepare()
    current_api()


def renew_after_restore() -> None:
    """Lambda's after-restore hook (SnapStart): what copies of one snapshot must not share."""
    current_runtime().renew_after_restore()


# Lambda's managed Python runtimes provide the module; elsewhere (tests, sam local) it is absent.
try:
    from snapshot_restore_py import (  # type: ignore[import-not-found]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:
    pass
else:
    register_before_snapshot(prepare_for_snapshot)
    register_after_restore(renew_after_restore)


def _is_sqs_event(event: Mapping[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and records[0].get("eventSource") == "aws:sqs"


def _is_rest_api_event(event: Mapping[str, Any]) -> bool:
    return "httpMethod" in event and "requestContext" in event


Handler = Callable[[dict[str, Any], "LambdaContext"], Mapping[str, Any]]


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    return instrumented_handler()(event, context)


@cache
def instrumented_handler() -> Handler:
    """`handle` inside Powertools' logging and metrics, put together on first use; the first
    invocation of an execution environment adds a ColdStart metric."""
    measured = metrics.log_metrics(handle, capture_cold_start_metric=True)
    instrumented: Handler = logger.inject_lambda_context(clear_state=True)(measured)
    return instrumented


def handle(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    runtime = current_runtime()
    runtime.store.register_lambda_context(context)
    if _is_sqs_event(event):
        return runtime.sqs.handle(event, context)
    if _is_rest_api_event(event):
        logger.set_correlation_id(event["requestContext"].get("requestId"))
        return current_api().handle(event, context)
    logger.error("unrecognised event", top_level_keys=sorted(event)[:10])
    raise UnrecognisedEventError("expected an SQS event or an API Gateway REST API proxy event")
