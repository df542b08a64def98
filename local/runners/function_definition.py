"""What template.yaml says about the function: code, handler, limits, and the triggers that invoke it.

The local runners read their settings from here (batch size, batching window, concurrency,
routes, stage), so they behave like the deployed event source mapping and REST API would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.aws.resources import FUNCTION, TEMPLATE_PATH, TemplateReader

# Lambda's own defaults, for a template that leaves them out.
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


@dataclass(frozen=True)
class SqsTrigger:
    """The SQS event source mapping (the template's `Type: SQS` event)."""

    batch_size: int
    batching_window_s: float
    max_concurrency: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ApiRoute:
    """One `Type: Api` event: a resource path template such as `/unsubscribe-all/{subscriberIdString}`."""

    path: str
    method: str  # upper case; ANY matches every method


@dataclass(frozen=True)
class FunctionDefinition:
    name: str
    code_uri: Path
    handler: str
    timeout_s: float
    memory_mb: int
    sqs_trigger: SqsTrigger
    api_routes: tuple[ApiRoute, ...]
    api_stage: str

    @classmethod
    def from_template(
        cls, reader: TemplateReader, stack_name: str, template_path: Path = TEMPLATE_PATH
    ) -> FunctionDefinition:
        properties = reader.properties(FUNCTION)
        settings = {**reader.function_globals(), **properties}
        events: dict[str, Any] = properties.get("Events", {})
        sqs_events = [event["Properties"] for event in events.values() if event["Type"] == "SQS"]
        if len(sqs_events) != 1:
            raise ValueError(f"{FUNCTION} needs exactly one SQS event locally, found {len(sqs_events)}")
        api_events = [event["Properties"] for event in events.values() if event["Type"] == "Api"]
        return cls(
            name=_substitute_stack_name(settings.get("FunctionName", FUNCTION), stack_name),
            code_uri=(template_path.parent / properties["CodeUri"]).resolve(),
            handler=properties["Handler"],
            timeout_s=float(reader.value(settings.get("Timeout", DEFAULT_TIMEOUT_S))),
            memory_mb=int(reader.value(settings.get("MemorySize", DEFAULT_MEMORY_MB))),
            sqs_trigger=_sqs_trigger(reader, sqs_events[0]),
            api_routes=tuple(
                ApiRoute(str(event["Path"]), str(event["Method"]).upper()) for event in api_events
            ),
            api_stage=_api_stage(reader, api_events),
        )


def _sqs_trigger(reader: TemplateReader, event: dict[str, Any]) -> SqsTrigger:
    scaling = event.get("ScalingConfig", {})
    return SqsTrigger(
        batch_size=int(reader.value(event.get("BatchSize", 10))),
        batching_window_s=float(reader.value(event.get("MaximumBatchingWindowInSeconds", 0))),
        # Without a maximum, Lambda scales up to 1,250 concurrent invocations; locally a handful will do.
        max_concurrency=int(reader.value(scaling.get("MaximumConcurrency", 5))),
        report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in event.get("FunctionResponseTypes", []),
    )


def _api_stage(reader: TemplateReader, api_events: list[dict[str, Any]]) -> str:
    """The StageName of the API the routes belong to (SAM's implicit API uses `Prod`)."""
    api_ids = {event["RestApiId"]["Ref"] for event in api_events if "RestApiId" in event}
    if len(api_ids) > 1:
        raise ValueError(f"{FUNCTION}'s Api events name several APIs: {sorted(api_ids)}")
    if not api_ids:
        return "Prod"
    return str(reader.value(reader.properties(api_ids.pop())["StageName"]))


def _substitute_stack_name(value: Any, stack_name: str) -> str:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text: str = value["Fn::Sub"].replace("${AWS::StackName}", stack_name)
        if "${" in text:
            raise ValueError(f"cannot resolve {value['Fn::Sub']!r} locally")
        return text
    return str(value)
