"""template.yaml holds the service's deployment contract: every property the code and operators rely on.

The template is read as CloudFormation receives it (short-form tags in long form, nothing resolved);
a second view is SAM's own translation of it, to check what SAM generates from the shorthand.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.shared.constants import LAMBDA_ADVANCED_LOGGING_LEVELS
from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

from local.aws.cfn_template import load_template, loads_template, resources_of_type
from local.aws.resources import TemplateReader
from optout.hubspot.versions import PUBLISHED_VERSIONS
from optout.triggers.strict_json import MAX_BODY_BYTES
from tests.events import event_names, load_event

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
FUNCTION = "UnsubscribeAllFunction"
STAGE = "api"

ROUTES = {
    ("POST", "/unsubscribe-all"),
    ("GET", "/unsubscribe-all/{subscriberIdString}"),
    ("POST", "/communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all"),
    ("GET", "/communication-preferences/{version}/statuses/{subscriberIdString}/unsubscribe-all"),
    ("POST", "/communication-preferences/{version}/statuses/batch/unsubscribe-all"),
    ("POST", "/one-click-links"),
    ("GET", "/one-click/{token}"),
    ("POST", "/one-click/{token}"),
}
# The one-click link itself: mail clients call it without credentials (RFC 8058).
UNSIGNED_ROUTES = {("GET", "/one-click/{token}"), ("POST", "/one-click/{token}")}
CUSTOM_METRICS = {
    "Unsubscribed",
    "AlreadyUnsubscribed",
    "RateLimited",
    "PermanentFailures",
    "TransientFailures",
    "IdempotentReplays",
    "HubSpotCalls",
    "HubSpotCallLatency",
    "DailyLimitReached",
    "HubSpotEndpointNotFound",
    "ColdStart",
    "OneClickLinksMinted",
    "OneClickPagesShown",
    "OneClickClicks",
    "OneClickQueued",
    "OneClickRefused",
}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = template["Resources"]
    return resources


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    """The function's properties as SAM deploys them: Globals.Function under the function's own."""
    globals_ = template["Globals"]["Function"]
    own = template["Resources"][FUNCTION]["Properties"]
    merged = {**globals_, **own}
    merged["Environment"] = {
        "Variables": {**globals_["Environment"]["Variables"], **own["Environment"]["Variables"]}
    }
    return merged


def translate(parameters: dict[str, str]) -> dict[str, Any]:
    """What SAM makes of the template with these parameter values (defaults for the others)."""

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    sam_template = load_template(TEMPLATE_PATH)
    sam_template["Resources"][FUNCTION]["Properties"]["CodeUri"] = "s3://bucket/function.zip"
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # SAM derives the partition from it
        result: dict[str, Any] = transform(sam_template, parameters, NoManagedPolicies())
    return result


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    """What SAM makes of the template (CloudFormation without the Serverless shorthand)."""
    return translate({})


def parameter(template: dict[str, Any], ref: Any) -> dict[str, Any]:
    """The parameter a property refers to with ``!Ref``."""
    assert isinstance(ref, dict), f"{ref!r} is not a !Ref to a parameter"
    assert set(ref) == {"Ref"}, f"{ref!r} is not a !Ref to a parameter"
    params: dict[str, Any] = template["Parameters"]
    assert ref["Ref"] in params, f"{ref['Ref']} is not a parameter"
    return dict(params[ref["Ref"]])


def statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A policy document's statements, conditional ones (``!If [cond, stmt, NoValue]``) included."""
    for statement in document["Statement"]:
        if "Fn::If" in statement:
            yield from (branch for branch in statement["Fn::If"][1:] if "Effect" in branch)
        else:
            yield statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def unwrap(body: dict[str, Any]) -> dict[str, Any]:
    """The unsubscribe request inside an SQS body: plain, SNS notification or EventBridge event."""
    if body.get("Type") == "Notification":
        message: dict[str, Any] = json.loads(body["Message"])
        return message
    if "detail" in body and "detail-type" in body:
        detail: dict[str, Any] = body["detail"]
        return detail
    return body


# --- the function ---------------------------------------------------------------------------------


def test_function_runs_python313_on_arm64_from_its_code_folder(function: Json) -> None:
    # GIVEN the function as SAM deploys it (Globals merged in)
    # WHEN its runtime contract is read
    # THEN it is the app.lambda_handler of functions/unsubscribe_all/ on python3.13/arm64, traced
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "app.lambda_handler"
    assert function["CodeUri"] == "functions/unsubscribe_all/"
    assert (ROOT / function["CodeUri"] / "requirements.txt").is_file()
    assert function["Timeout"] == 30
    assert function["Tracing"] == "Active"
    assert function["Role"] == {"Fn::GetAtt": ["UnsubscribeAllFunctionRole", "Arn"]}
    # Powertools comes pinned in requirements.txt: the only layer is the opt-in OpenTelemetry one
    assert function["Layers"] == {
        "Fn::If": ["HasOpenTelemetryLayer", [{"Ref": "OpenTelemetryLayerArn"}], {"Ref": "AWS::NoValue"}]
    }


@pytest.mark.parametrize(
    "layer", ["", "arn:aws:lambda:eu-west-1:615299751070:layer:AWSOpenTelemetryDistroPython:24"]
)
def test_opentelemetry_is_off_unless_a_layer_is_given_and_never_sees_hubspot_s_urls(
    template: Json, function: Json, layer: str
) -> None:
    # GIVEN the template with the OpenTelemetry layer's ARN empty (the default) or given
    reader = TemplateReader(template, {"OpenTelemetryLayerArn": layer})
    assert parameter(template, {"Ref": "OpenTelemetryLayerArn"})["Default"] == ""
    variables = function["Environment"]["Variables"]
    # WHEN the function's layers and the layer's settings are resolved
    layers = reader.value(function["Layers"])
    wrapper = reader.value(variables["AWS_LAMBDA_EXEC_WRAPPER"])
    disabled = reader.value(variables["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"])
    # THEN without an ARN there is no layer and no wrapper; with one, the layer's wrapper starts the
    # function, and urllib3 (whose spans would carry HubSpot's URLs, email addresses in their
    # paths) is not instrumented
    if not layer:
        assert (layers, wrapper, disabled) == (None, None, None)
    else:
        assert [reader.value(item) for item in layers] == [layer]
        assert wrapper == "/opt/otel-instrument"
        assert "urllib3" in disabled.split(",")


def test_snapstart_is_a_parameter_off_by_default_for_the_alias_every_trigger_invokes(
    template: Json, function: Json, translated: Json
) -> None:
    # GIVEN the function's SnapStart setting, its alias, and what SAM makes the triggers invoke
    snap_start = parameter(template, function["SnapStart"]["ApplyOn"])
    [mapping] = resources_of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    permissions = resources_of_type(translated, "AWS::Lambda::Permission").values()
    # WHEN they are read
    # THEN SnapStart is off unless asked for, and the queue and the API invoke the published alias
    # `live`, the version a snapshot would be taken of
    assert snap_start["Default"] == "None"
    assert snap_start["AllowedValues"] == ["None", "PublishedVersions"]
    assert function["AutoPublishAlias"] == "live"
    assert mapping["Properties"]["FunctionName"] == {"Ref": f"{FUNCTION}Aliaslive"}
    assert permissions
    assert all(p["Properties"]["FunctionName"] == {"Ref": f"{FUNCTION}Aliaslive"} for p in permissions)


def test_memory_size_is_a_parameter_defaulting_to_256(template: Json, function: Json) -> None:
    # GIVEN the function's MemorySize
    # WHEN the parameter it refers to is read
    # THEN it defaults to 256 MB within Lambda's range
    memory = parameter(template, function["MemorySize"])
    assert memory["Default"] == 256
    assert memory["MinValue"] == 128
    assert memory["MaxValue"] == 10240


def test_environment_variables_are_exactly_the_contract(template: Json, function: Json) -> None:
    # GIVEN the function's environment (Globals and its own)
    variables = function["Environment"]["Variables"]
    # WHEN the names and values are compared with the contract
    # THEN every name is there, no other, and each comes from the agreed source
    assert set(variables) == {
        "HUBSPOT_TOKEN_SECRET_ID",
        "HUBSPOT_BASE_URL",
        "HUBSPOT_API_VERSION",
        "HUBSPOT_BATCH_MODE",
        "HUBSPOT_BATCH_SIZE",
        "HUBSPOT_MAX_CONCURRENCY",
        "HUBSPOT_RATE_LIMIT_SHARED_BY",
        "HUBSPOT_WINDOW_SHARE_PERCENT",
        "HUBSPOT_DAILY_SHARE_PERCENT",
        "HUBSPOT_ACCOUNT_TIME_ZONE",
        "IDEMPOTENCY_TABLE_NAME",
        "DEAD_LETTER_QUEUE_URL",
        "SOURCE_QUEUE_URL",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "AWS_LAMBDA_EXEC_WRAPPER",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
        "ONE_CLICK_KEY_ID",
        "ONE_CLICK_STACK_NAME",
        "ONE_CLICK_DOMAIN_NAME",
        "ONE_CLICK_LINK_MAX_AGE_DAYS",
    }
    assert variables["HUBSPOT_TOKEN_SECRET_ID"] == {"Ref": "HubSpotTokenSecretName"}
    assert variables["IDEMPOTENCY_TABLE_NAME"] == {"Ref": "IdempotencyTable"}
    assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": "UnsubscribeDeadLetterQueue"}  # Ref = URL
    assert variables["SOURCE_QUEUE_URL"] == {"Ref": "UnsubscribeQueue"}
    assert variables["HUBSPOT_RATE_LIMIT_SHARED_BY"] == {"Ref": "QueueMaximumConcurrency"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "hubspot-unsubscribe-all"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "HubSpotUnsubscribeAll"
    assert variables["ONE_CLICK_KEY_ID"] == {"Fn::GetAtt": ["OneClickLinkKey", "Arn"]}
    assert variables["ONE_CLICK_STACK_NAME"] == {"Ref": "AWS::StackName"}
    assert variables["ONE_CLICK_DOMAIN_NAME"] == {"Ref": "OneClickDomainName"}
    assert variables["ONE_CLICK_LINK_MAX_AGE_DAYS"] == {"Ref": "OneClickLinkMaxAgeDays"}
    powertools = set(template["Globals"]["Function"]["Environment"]["Variables"])
    assert powertools == {name for name in variables if name.startswith("POWERTOOLS_")}


@pytest.mark.parametrize(
    ("variable", "default"),
    [
        ("HUBSPOT_BASE_URL", "https://api.hubapi.com"),
        ("HUBSPOT_API_VERSION", "v4"),
        ("HUBSPOT_BATCH_MODE", "auto"),
        ("HUBSPOT_BATCH_SIZE", 100),
        ("HUBSPOT_MAX_CONCURRENCY", 10),
        ("HUBSPOT_WINDOW_SHARE_PERCENT", 90),
        ("HUBSPOT_DAILY_SHARE_PERCENT", 80),
        ("HUBSPOT_ACCOUNT_TIME_ZONE", "UTC"),
        ("POWERTOOLS_LOG_LEVEL", "INFO"),
    ],
)
def test_tunable_environment_variables_come_from_parameters_with_defaults(
    template: Json, function: Json, variable: str, default: object
) -> None:
    # GIVEN an environment variable operators may tune
    # WHEN the parameter behind it is read
    # THEN its default is the agreed one
    assert parameter(template, function["Environment"]["Variables"][variable])["Default"] == default


def test_api_version_parameter_allows_exactly_the_versions_hubspot_publishes(template: Json) -> None:
    # GIVEN the HubSpotApiVersion parameter, WHEN its allowed values are read
    # THEN they are the function's own list: a version HubSpot does not publish answers 404
    assert template["Parameters"]["HubSpotApiVersion"]["AllowedValues"] == list(PUBLISHED_VERSIONS)


@pytest.mark.parametrize(
    ("zone", "allowed"),
    [
        ("UTC", True),
        ("America/New_York", True),
        ("America/Argentina/Buenos_Aires", True),
        ("Etc/GMT+5", True),
        ("../etc/passwd", False),
        ("", False),
    ],
)
def test_account_time_zone_parameter_takes_iana_names_only(template: Json, zone: str, allowed: bool) -> None:
    pattern = template["Parameters"]["HubSpotAccountTimeZone"]["AllowedPattern"]
    assert (re.fullmatch(pattern, zone) is not None) is allowed


def test_batch_mode_parameter_allows_auto_on_off_as_strings(template: Json) -> None:
    # GIVEN the HubSpotBatchMode parameter (bare on/off would be YAML booleans)
    # WHEN its allowed values are read
    # THEN they are the three strings
    assert template["Parameters"]["HubSpotBatchMode"]["AllowedValues"] == ["auto", "on", "off"]


def test_no_token_in_the_template() -> None:
    # GIVEN the template's text
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    # WHEN it is searched for HubSpot private-app tokens (pat-<region>-<uuid>) and NoEcho parameters
    # THEN there is none: the token is only ever read from Secrets Manager
    assert re.search(r"pat-[a-z0-9]+-[0-9a-f]{8}-", text) is None
    assert "NoEcho" not in text


def test_secret_parameter_names_a_secret(template: Json) -> None:
    # GIVEN the token secret's parameter
    secret = template["Parameters"]["HubSpotTokenSecretName"]
    # WHEN its default and pattern are read
    # THEN the default is the agreed secret name and the pattern admits names, not JSON
    assert secret["Default"] == "hubspot-unsubscribe-all/hubspot-token"
    assert re.fullmatch(secret["AllowedPattern"], secret["Default"])
    assert re.fullmatch(secret["AllowedPattern"], '{"token": "x"}') is None


# --- the queues and the SQS event -----------------------------------------------------------------


def test_visibility_timeout_is_at_least_six_times_the_function_timeout(
    resources: Json, function: Json
) -> None:
    # GIVEN the source queue and the function
    queue = resources["UnsubscribeQueue"]["Properties"]
    # WHEN the visibility timeout is compared with the function timeout
    # THEN it is at least six times as long (AWS's rule for SQS event sources)
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


def test_source_queue_redrives_to_the_dlq_after_at_least_five_receives(
    template: Json, resources: Json
) -> None:
    # GIVEN the source queue's redrive policy
    redrive = resources["UnsubscribeQueue"]["Properties"]["RedrivePolicy"]
    # WHEN its target and receive count are read
    # THEN it targets the DLQ, after a parameter that defaults to, and cannot go below, 5
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["UnsubscribeDeadLetterQueue", "Arn"]}
    receives = parameter(template, redrive["maxReceiveCount"])
    assert receives["Default"] == 5
    assert receives["MinValue"] >= 5


def test_the_dlq_takes_any_message_the_source_queue_accepts_with_its_reason(resources: Json) -> None:
    # GIVEN both queues' size limits (SQS counts a message's attributes towards its size)
    queue = resources["UnsubscribeQueue"]["Properties"]["MaximumMessageSize"]
    dlq = resources["UnsubscribeDeadLetterQueue"]["Properties"]["MaximumMessageSize"]
    # WHEN the largest message the source queue accepts is parked base64-encoded (4/3 its size),
    # with attributes far larger than the function writes (8 of them, at most 512 characters, escaped)
    largest_letter = -(-queue // 3) * 4 + 64 * 1024
    # THEN the DLQ takes it, so such a message is parked with its reason, not moved there without one
    assert largest_letter <= dlq <= 1_048_576
    assert queue >= MAX_BODY_BYTES  # and it takes every message the function accepts


def test_dlq_keeps_messages_14_days_longer_than_the_source_queue(resources: Json) -> None:
    # GIVEN both queues (a moved message keeps its first enqueue time)
    dlq = resources["UnsubscribeDeadLetterQueue"]["Properties"]
    queue = resources["UnsubscribeQueue"]["Properties"]
    # WHEN their retention periods are compared
    # THEN the DLQ keeps 14 days, longer than the source queue
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["MessageRetentionPeriod"] < dlq["MessageRetentionPeriod"]


@pytest.mark.parametrize("queue", ["UnsubscribeQueue", "UnsubscribeDeadLetterQueue"])
def test_queues_are_encrypted_at_rest(resources: Json, queue: str) -> None:
    # GIVEN a queue
    # WHEN its encryption setting is read
    # THEN SSE-SQS is on (SNS and EventBridge can deliver to it)
    assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True


def test_queue_policy_denies_plain_http_on_both_queues(resources: Json) -> None:
    # GIVEN the queue policy
    policy = resources["UnsubscribeQueuesPolicy"]["Properties"]
    # WHEN its statements are read
    deny = [s for s in statements(policy["PolicyDocument"]) if s["Effect"] == "Deny"]
    # THEN one denies every SQS action without TLS, on both queues
    assert len(deny) == 1
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Action"] == "sqs:*"
    queues = {"UnsubscribeQueue", "UnsubscribeDeadLetterQueue"}
    assert {arn["Fn::GetAtt"][0] for arn in deny[0]["Resource"]} == queues
    assert {ref["Ref"] for ref in policy["Queues"]} == queues


def test_sqs_event_reports_partial_batch_failures_with_bounded_concurrency(
    template: Json, function: Json
) -> None:
    # GIVEN the function's SQS event
    events = function["Events"]
    sqs = [event["Properties"] for event in events.values() if event["Type"] == "SQS"]
    assert len(sqs) == 1
    event = sqs[0]
    # WHEN its properties and their parameters are read
    # THEN it polls the source queue, reports failed items, and batch/window/concurrency are tunable
    assert event["Queue"] == {"Fn::GetAtt": ["UnsubscribeQueue", "Arn"]}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert parameter(template, event["BatchSize"])["Default"] == 100
    window = parameter(template, event["MaximumBatchingWindowInSeconds"])
    assert window["Default"] == 1
    assert window["MinValue"] >= 1  # a BatchSize above 10 needs a window
    concurrency = parameter(template, event["ScalingConfig"]["MaximumConcurrency"])
    assert concurrency["Default"] == 2
    assert concurrency["MinValue"] == 2
    assert "rate limit" in concurrency["Description"]


def test_translated_event_source_mapping_keeps_report_batch_item_failures(translated: Json) -> None:
    # GIVEN SAM's translation of the SQS event
    mappings = resources_of_type(translated, "AWS::Lambda::EventSourceMapping")
    # WHEN the event source mapping is read
    # THEN there is one, and it carries the failure reporting the handler's batch response needs
    assert len(mappings) == 1
    (mapping,) = mappings.values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# --- the idempotency table ------------------------------------------------------------------------


def test_idempotency_table_fits_powertools(resources: Json) -> None:
    # GIVEN the idempotency table
    table = resources["IdempotencyTable"]["Properties"]
    # WHEN its keys, TTL, billing, encryption and backups are read
    # THEN they are what Powertools' DynamoDB persistence layer expects, on-demand, encrypted, recoverable
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# --- the REST API ---------------------------------------------------------------------------------


def test_api_routes_are_exactly_the_contract(function: Json) -> None:
    # GIVEN the function's API events
    apis = [event["Properties"] for event in function["Events"].values() if event["Type"] == "Api"]
    # WHEN their methods and paths are collected
    # THEN they are the agreed routes, all on UnsubscribeApi, none opting out of IAM auth but the
    # one-click link's own two
    assert {(api["Method"].upper(), api["Path"]) for api in apis} == ROUTES
    assert len(apis) == len(ROUTES)
    assert all(api["RestApiId"] == {"Ref": "UnsubscribeApi"} for api in apis)
    unsigned = {(api["Method"].upper(), api["Path"]) for api in apis if "Auth" in api}
    assert unsigned == UNSIGNED_ROUTES
    assert all(api["Auth"] == {"Authorizer": "NONE"} for api in apis if "Auth" in api)


def test_api_requires_iam_on_every_route_and_invokes_without_caller_credentials(resources: Json) -> None:
    # GIVEN the API's auth settings
    auth = resources["UnsubscribeApi"]["Properties"]["Auth"]
    # WHEN they are read
    # THEN IAM is the default authorizer and API Gateway invokes the function itself
    assert auth["DefaultAuthorizer"] == "AWS_IAM"
    assert auth["InvokeRole"] == "NONE"


def test_translated_api_signs_every_method_with_sigv4(translated: Json) -> None:
    # GIVEN SAM's translation of the API
    body = translated["Resources"]["UnsubscribeApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["AWS_IAM"]
    methods = [(m.upper(), p, op) for p, ops in body["paths"].items() for m, op in ops.items()]
    # WHEN every method's security and integration are read
    # THEN all but the one-click link's two require SigV4, and none passes the caller's credentials
    # on to Lambda
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert {(method, path) for method, path, _ in methods} == ROUTES
    for method, path, operation in methods:
        expected: list[dict[str, list[str]]] = (
            [{"NONE": []}] if (method, path) in UNSIGNED_ROUTES else [{"AWS_IAM": []}]
        )
        assert operation["security"] == expected, (method, path)
        assert "credentials" not in operation["x-amazon-apigateway-integration"]


def test_api_stage_is_throttled_untraced_and_access_logged(template: Json, resources: Json) -> None:
    # GIVEN the API's properties
    api = resources["UnsubscribeApi"]["Properties"]
    settings, *one_click = api["MethodSettings"]
    # WHEN throttling, tracing and logging are read
    # THEN every method is throttled by parameters and logged to a retained log group, and neither
    # X-Ray (whose traces keep the URL path, and so the address, for 30 days) nor execution logging
    # (which logs requests) is on; the one-click link's routes have throttling of their own
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert {(s["ResourcePath"], s["HttpMethod"]) for s in one_click} == {
        ("/~1one-click~1{token}", "GET"),
        ("/~1one-click~1{token}", "POST"),
    }
    for method_settings in [settings, *one_click]:
        assert parameter(template, method_settings["ThrottlingRateLimit"])["Default"] > 0
        assert parameter(template, method_settings["ThrottlingBurstLimit"])["Default"] > 0
        assert method_settings["DataTraceEnabled"] is False
        assert "LoggingLevel" not in method_settings
    assert {s["ThrottlingRateLimit"]["Ref"] for s in one_click} == {"OneClickThrottlingRateLimit"}
    assert api["TracingEnabled"] is False
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert parameter(template, resources["ApiAccessLogGroup"]["Properties"]["RetentionInDays"])


def test_access_log_format_is_json_without_the_address_bearing_path(resources: Json) -> None:
    # GIVEN the access log format
    log_format = resources["UnsubscribeApi"]["Properties"]["AccessLogSetting"]["Format"]
    # WHEN it is parsed as JSON
    fields = json.loads(log_format)
    # THEN it has the request ids API Gateway requires and logs the route template, not the path,
    # and the error's type, not its message (which can quote the request)
    assert fields["requestId"] == "$context.requestId"
    assert fields["resourcePath"] == "$context.resourcePath"
    assert fields["errorResponseType"] == "$context.error.responseType"
    variables = set(re.findall(r"\$context\.[A-Za-z.]+", log_format))
    assert not variables & {"$context.path", "$context.error.message", "$context.error.messageString"}
    assert not {variable for variable in variables if "xray" in variable.lower()}


# --- IAM ------------------------------------------------------------------------------------------


def test_function_role_grants_exact_actions_on_exact_resources(resources: Json) -> None:
    # GIVEN the function's explicit role
    role = resources["UnsubscribeAllFunctionRole"]["Properties"]
    (policy,) = role["Policies"]
    granted = [
        (frozenset(as_list(s["Action"])), json.dumps(s["Resource"], sort_keys=True))
        for s in statements(policy["PolicyDocument"])
        if s["Effect"] == "Allow"
    ]
    # WHEN the grants are compared with what the function does
    # THEN each action set is on its one resource, and no managed policy is attached
    assert "ManagedPolicyArns" not in role
    assert len(granted) == len(set(granted))
    expected: list[tuple[frozenset[str], Any]] = [
        (
            frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
            {"Fn::GetAtt": ["UnsubscribeAllFunctionLogGroup", "Arn"]},
        ),
        (frozenset(XRAY_ACTIONS), "*"),
        (
            frozenset(
                {
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                }
            ),
            {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
        ),
        (
            frozenset({"secretsmanager:GetSecretValue"}),
            {
                "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                ":secret:${HubSpotTokenSecretName}-??????"
            },
        ),
        (
            frozenset(
                {
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                }
            ),
            {"Fn::GetAtt": ["UnsubscribeQueue", "Arn"]},
        ),
        (frozenset({"sqs:SendMessage"}), {"Fn::GetAtt": ["UnsubscribeDeadLetterQueue", "Arn"]}),
        # A one-click link's opt-out takes the queue, as a producer's does.
        (frozenset({"sqs:SendMessage"}), {"Fn::GetAtt": ["UnsubscribeQueue", "Arn"]}),
        (frozenset({"kms:Decrypt"}), {"Ref": "HubSpotTokenSecretKmsKeyArn"}),
    ]
    assert set(granted) == {(actions, json.dumps(resource, sort_keys=True)) for actions, resource in expected}


def test_kms_decrypt_is_granted_only_for_a_given_key_and_only_via_secrets_manager(
    template: Json, resources: Json
) -> None:
    # GIVEN the role's conditional KMS statement
    document = resources["UnsubscribeAllFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    (conditional,) = [s["Fn::If"] for s in document["Statement"] if "Fn::If" in s]
    # WHEN its condition and the KMS key parameter are read
    condition, statement, otherwise = conditional
    # THEN it exists only when a key ARN is given, and is limited to Secrets Manager's use of the key
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HubSpotTokenSecretKmsKeyArn"}, ""]}]
    }
    assert template["Parameters"]["HubSpotTokenSecretKmsKeyArn"]["Default"] == ""
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
    }


def test_no_allow_statement_anywhere_uses_a_wildcard_except_xray(resources: Json) -> None:
    # GIVEN every Allow statement in every role and policy of the template
    allows = [
        (name, statement)
        for name, body in resources.items()
        for key in ("Policies", "PolicyDocument")
        for document in (
            [p["PolicyDocument"] for p in body.get("Properties", {}).get(key, [])]
            if key == "Policies"
            else [body.get("Properties", {}).get(key)]
        )
        if document
        for statement in statements(document)
        if statement["Effect"] == "Allow"
    ]
    assert len(allows) >= 7
    # WHEN their actions and resources are checked for wildcards
    # THEN no action is a wildcard, and "*" is a resource only for the X-Ray actions
    for name, statement in allows:
        actions = set(as_list(statement["Action"]))
        assert not any("*" in action for action in actions), (name, actions)
        if "*" in as_list(statement["Resource"]):
            assert actions == XRAY_ACTIONS, (name, actions)


def test_translated_template_has_no_role_or_managed_policy_made_by_sam(translated: Json) -> None:
    # GIVEN SAM's translation
    roles = resources_of_type(translated, "AWS::IAM::Role")
    # WHEN its roles are listed
    # THEN they are the template's own (SAM made none, so attached none of its '*' managed policies)
    assert set(roles) == {"UnsubscribeAllFunctionRole", "ApiGatewayAccountLogRole", "DeploymentRole"}
    assert all("ManagedPolicyArns" not in role["Properties"] for role in roles.values())


def test_function_logs_to_its_own_retained_log_group(template: Json, resources: Json, function: Json) -> None:
    # GIVEN the function and its log group
    log_group = resources["UnsubscribeAllFunctionLogGroup"]["Properties"]
    # WHEN the names are compared
    # THEN the log group is /aws/lambda/<function name>, retained, and the function is pointed at it
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + function["FunctionName"]["Fn::Sub"]}
    assert parameter(template, log_group["RetentionInDays"])["Default"] == 30
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "UnsubscribeAllFunctionLogGroup"}


def test_lambda_logs_json_at_the_level_powertools_logs_at(template: Json, function: Json) -> None:
    # GIVEN the function's logging config and the Powertools log level parameter
    logging_config = function["LoggingConfig"]
    levels = template["Parameters"]["PowertoolsLogLevel"]["AllowedValues"]
    mapping = template["Mappings"]["LambdaLogLevels"]
    # WHEN Lambda's application level is read for each Powertools level
    # THEN logs are JSON, and Lambda's level (which Powertools obeys first) is the same level, so no
    # line Powertools writes is dropped and PowertoolsLogLevel keeps its meaning
    assert logging_config["LogFormat"] == "JSON"
    assert logging_config["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LambdaLogLevels", {"Ref": "PowertoolsLogLevel"}, "Application"]
    }
    assert set(mapping) == set(levels)
    assert {level: LAMBDA_ADVANCED_LOGGING_LEVELS[mapping[level]["Application"]] for level in levels} == {
        level: level for level in levels
    }


# --- safe deploys ---------------------------------------------------------------------------------


def test_deploys_publish_a_version_behind_the_alias_live_with_a_canary_by_default(
    template: Json, function: Json
) -> None:
    # GIVEN the function's deployment settings
    preference = function["DeploymentPreference"]
    deployment_type = parameter(template, preference["Type"])
    # WHEN they are read
    # THEN every deploy publishes a version on `live`, shifted by CodeDeploy: a canary unless told
    # otherwise, rolled back by the new version's error alarm, with the stack's own role
    assert function["AutoPublishAlias"] == "live"
    assert deployment_type["Default"] == "Canary10Percent5Minutes"
    assert {"Canary10Percent5Minutes", "AllAtOnce"} <= set(deployment_type["AllowedValues"])
    assert preference["Alarms"] == [{"Ref": "DeployedVersionErrorsAlarm"}]
    assert preference["Role"] == {"Fn::GetAtt": ["DeploymentRole", "Arn"]}


def test_the_rollback_alarm_watches_the_version_being_deployed(resources: Json) -> None:
    # GIVEN the alarm CodeDeploy watches
    properties = resources["DeployedVersionErrorsAlarm"]["Properties"]
    # WHEN its metric is read
    # THEN it is Lambda's Errors of the new version through the alias, breached by one error
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/Lambda", "Errors")
    assert {d["Name"]: d["Value"] for d in properties["Dimensions"]} == {
        "FunctionName": {"Ref": FUNCTION},
        "Resource": {"Fn::Sub": "${UnsubscribeAllFunction}:live"},
        "ExecutedVersion": {"Fn::GetAtt": [FUNCTION, "Version.Version"]},
    }
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)


def test_the_deployment_role_may_only_move_this_alias_and_read_its_alarm(resources: Json) -> None:
    # GIVEN CodeDeploy's role
    role = resources["DeploymentRole"]["Properties"]
    (policy,) = role["Policies"]
    granted = {frozenset(as_list(s["Action"])): s["Resource"] for s in statements(policy["PolicyDocument"])}
    # WHEN its trust and grants are read
    # THEN only CodeDeploy assumes it, for the alias actions on this function and this one alarm
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    function_arn = (
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}"
        ":function:${AWS::StackName}-unsubscribe-all"
    )
    assert granted == {
        frozenset({"lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"}): [
            {"Fn::Sub": function_arn},
            {"Fn::Sub": function_arn + ":*"},
        ],
        frozenset({"cloudwatch:DescribeAlarms"}): {"Fn::GetAtt": ["DeployedVersionErrorsAlarm", "Arn"]},
    }


def test_translated_triggers_invoke_the_alias_and_codedeploy_rolls_back_on_the_alarm(
    translated: Json,
) -> None:
    # GIVEN SAM's translation
    resources = translated["Resources"]
    (alias_id,) = resources_of_type(translated, "AWS::Lambda::Alias")
    (mapping,) = resources_of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    permissions = resources_of_type(translated, "AWS::Lambda::Permission").values()
    body = resources["UnsubscribeApi"]["Properties"]["Body"]
    uris = [
        op["x-amazon-apigateway-integration"]["uri"] for ops in body["paths"].values() for op in ops.values()
    ]
    (group,) = resources_of_type(translated, "AWS::CodeDeploy::DeploymentGroup").values()
    # WHEN what invokes the function, and how deploys go, are read
    # THEN the queue's mapping, the API's integrations and their permissions all name the alias
    assert resources[alias_id]["Properties"]["Name"] == "live"
    assert mapping["Properties"]["FunctionName"] == {"Ref": alias_id}
    assert {json.dumps(p["Properties"]["FunctionName"]) for p in permissions} == {
        json.dumps({"Ref": alias_id})
    }
    assert len(uris) == len(ROUTES)
    assert all("${" + alias_id + "}" in uri["Fn::Sub"] for uri in uris)
    # AND CodeDeploy shifts it with the stack's role, stopping and rolling back on the alarm
    properties = group["Properties"]
    assert properties["ServiceRoleArn"] == {"Fn::GetAtt": ["DeploymentRole", "Arn"]}
    assert properties["AlarmConfiguration"] == {
        "Enabled": True,
        "Alarms": [{"Name": {"Ref": "DeployedVersionErrorsAlarm"}}],
    }
    assert "DEPLOYMENT_STOP_ON_ALARM" in properties["AutoRollbackConfiguration"]["Events"]
    assert properties["DeploymentConfigName"] == {
        "Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": "Canary10Percent5Minutes"}]
    }


def test_the_deployment_type_parameter_reaches_codedeploy() -> None:
    # GIVEN the template deployed with DeploymentPreferenceType=AllAtOnce (a development stack)
    translated = translate({"DeploymentPreferenceType": "AllAtOnce"})
    # WHEN the deployment group is read
    (group,) = resources_of_type(translated, "AWS::CodeDeploy::DeploymentGroup").values()
    # THEN CodeDeploy moves all traffic at once
    assert group["Properties"]["DeploymentConfigName"]["Fn::Sub"][1] == {"ConfigName": "AllAtOnce"}


# --- alarms, dashboard, outputs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alarm", "expected"),
    [
        ("DeadLetterQueueMessagesAlarm", ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                          {"Fn::GetAtt": ["UnsubscribeDeadLetterQueue", "QueueName"]})),
        ("FunctionErrorsAlarm", ("AWS/Lambda", "Errors", {"Ref": FUNCTION})),
        ("FunctionThrottlesAlarm", ("AWS/Lambda", "Throttles", {"Ref": FUNCTION})),
        ("QueueOldestMessageAgeAlarm", ("AWS/SQS", "ApproximateAgeOfOldestMessage",
                                        {"Fn::GetAtt": ["UnsubscribeQueue", "QueueName"]})),
        ("DeadLetterQueueAgeAlarm", ("AWS/SQS", "ApproximateAgeOfOldestMessage",
                                     {"Fn::GetAtt": ["UnsubscribeDeadLetterQueue", "QueueName"]})),
    ],
)  # fmt: skip
def test_alarms_watch_the_right_metric(resources: Json, alarm: str, expected: tuple[str, str, Json]) -> None:
    # GIVEN an alarm
    properties = resources[alarm]["Properties"]
    # WHEN its metric is read
    # THEN it watches this stack's resource
    namespace, metric, dimension = expected
    assert (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
    assert [d["Value"] for d in properties["Dimensions"]] == [dimension]


NOTIFY = [{"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}]


def test_every_alarm_notifies_the_given_topic_or_the_one_the_stack_creates(
    template: Json, resources: Json
) -> None:
    # GIVEN every alarm of the template
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {
        "DeadLetterQueueMessagesAlarm",
        "DeadLetterQueueAgeAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "QueueOldestMessageAgeAlarm",
        "HubSpotEndpointNotFoundAlarm",
        "DailyLimitReachedAlarm",
        "DeployedVersionErrorsAlarm",
        "ApiServerErrorsAlarm",
        "ApiLatencyAlarm",
    }
    # WHEN their actions are read
    # THEN each notifies a topic whatever the parameters: AlarmTopicArn when given, else the stack's own
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == NOTIFY, name
        assert alarm["Properties"]["OKActions"] == NOTIFY, name
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert template["Conditions"]["CreateAlarmTopic"] == {"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}
    assert resources["AlarmTopic"]["Condition"] == "CreateAlarmTopic"


def test_the_alarm_topic_takes_cloudwatch_s_alarms_of_this_stack_and_an_optional_email(
    template: Json, resources: Json
) -> None:
    # GIVEN the topic the stack creates, its policy and its subscription
    policy = resources["AlarmTopicPolicy"]
    subscription = resources["AlarmEmailSubscription"]
    # WHEN they are read
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    # THEN CloudWatch may publish to it for this stack's alarms in this account only
    assert policy["Condition"] == "CreateAlarmTopic"
    assert policy["Properties"]["Topics"] == [{"Ref": "AlarmTopic"}]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Allow",
        {"Service": "cloudwatch.amazonaws.com"},
        "sns:Publish",
    )
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
            ":alarm:${AWS::StackName}-*"
        }
    }
    # AND the email, when given, is subscribed (only to the stack's own topic)
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::And": [
            {"Condition": "CreateAlarmTopic"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
        ]
    }


def test_dlq_age_alarm_fires_a_week_before_sqs_deletes_the_oldest_opt_out(
    template: Json, resources: Json
) -> None:
    # GIVEN the DLQ's retention and the alarm on its oldest message
    retention = resources["UnsubscribeDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"]
    properties = resources["DeadLetterQueueAgeAlarm"]["Properties"]
    threshold = parameter(template, properties["Threshold"])
    # WHEN its threshold is read
    # THEN it fires at about 7 days, while a week of the DLQ's 14 days is left to act
    assert threshold["Default"] == 7 * 24 * 3600
    assert threshold["MaxValue"] < retention
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["Statistic"] == "Maximum"
    assert properties["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("resource", ["UnsubscribeQueue", "UnsubscribeDeadLetterQueue", "IdempotencyTable"])
def test_queues_and_table_outlive_the_stack(resources: Json, resource: str) -> None:
    # GIVEN a resource that holds opt-outs (the queues) or what was done (the table)
    # WHEN the stack is deleted or the resource replaced
    # THEN CloudFormation keeps it
    assert resources[resource]["DeletionPolicy"] == "Retain"
    assert resources[resource]["UpdateReplacePolicy"] == "Retain"


def test_dlq_alarm_fires_on_a_single_message(resources: Json) -> None:
    # GIVEN the DLQ alarm
    properties = resources["DeadLetterQueueMessagesAlarm"]["Properties"]
    # WHEN its threshold is read
    # THEN any visible message breaches it
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)


def dashboard_metrics(widgets: list[Json]) -> tuple[list[tuple[str, ...]], list[str]]:
    """Every metric row in full (the "." and "..." shorthands expanded), and every math expression."""
    rows: list[tuple[str, ...]] = []
    expressions: list[str] = []
    for widget in widgets:
        previous: list[str] = []
        for row in widget["properties"]["metrics"]:
            fields = [field for field in row if not isinstance(field, dict)]
            if not fields:
                expressions.extend(field["expression"] for field in row if "expression" in field)
                continue
            if fields[0] == "...":
                fields = previous + fields[1:]
            fields = [previous[i] if field == "." else field for i, field in enumerate(fields)]
            rows.append(tuple(fields))
            previous = fields
    return rows, expressions


def test_dashboard_shows_function_queues_and_custom_metrics(resources: Json) -> None:
    # GIVEN the dashboard body (its ${...} placeholders all sit inside JSON strings)
    body_template, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # WHEN the metrics it plots are collected
    rows, expressions = dashboard_metrics(json.loads(body_template)["widgets"])
    function_rows = {row[1] for row in rows if row[0] == "AWS/Lambda"}
    queue_rows = {(row[1], row[3]) for row in rows if row[0] == "AWS/SQS"}
    custom_rows = [row for row in rows if row[0] == "HubSpotUnsubscribeAll"]
    searched = {name for e in expressions for name in re.findall(r'MetricName="(\w+)"', e)}
    # THEN it has the function's, the queues' and every custom metric, under the service dimension
    assert all(
        row[2:] == ("FunctionName", "${UnsubscribeAllFunction}") for row in rows if row[0] == "AWS/Lambda"
    )
    assert function_rows == {"Invocations", "Errors", "Throttles", "Duration"}
    assert queue_rows >= {
        ("ApproximateNumberOfMessagesVisible", "${QueueName}"),
        ("ApproximateAgeOfOldestMessage", "${QueueName}"),
        ("ApproximateNumberOfMessagesVisible", "${DeadLetterQueueName}"),
    }
    assert all(row[2:] == ("service", "hubspot-unsubscribe-all") for row in custom_rows)
    assert {row[1] for row in custom_rows} | searched == CUSTOM_METRICS
    assert all('service="hubspot-unsubscribe-all"' in e for e in expressions)
    api_rows = [row for row in rows if row[0] == "AWS/ApiGateway"]
    assert {row[1] for row in api_rows} == {"Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"}
    assert all(row[2:] == ("ApiName", "${ApiName}", "Stage", STAGE) for row in api_rows)
    assert variables == {
        "QueueName": {"Fn::GetAtt": ["UnsubscribeQueue", "QueueName"]},
        "DeadLetterQueueName": {"Fn::GetAtt": ["UnsubscribeDeadLetterQueue", "QueueName"]},
        "ApiName": resources["UnsubscribeApi"]["Properties"]["Name"],
    }


@pytest.mark.parametrize(
    ("alarm", "metric", "statistic"),
    [
        ("ApiServerErrorsAlarm", "5XXError", ("Statistic", "Sum")),
        ("ApiLatencyAlarm", "Latency", ("ExtendedStatistic", "p99")),
    ],
)
def test_api_alarms_watch_this_apis_stage(
    template: Json, resources: Json, alarm: str, metric: str, statistic: tuple[str, str]
) -> None:
    # GIVEN an API alarm and the API
    properties = resources[alarm]["Properties"]
    api = resources["UnsubscribeApi"]["Properties"]
    # WHEN its metric and dimensions are read
    # THEN it watches API Gateway's metric of this API (by its name) and stage, notifying the topic
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/ApiGateway", metric)
    assert properties[statistic[0]] == statistic[1]
    assert {d["Name"]: d["Value"] for d in properties["Dimensions"]} == {
        "ApiName": api["Name"],
        "Stage": api["StageName"],
    }
    assert properties["AlarmActions"] == NOTIFY
    if alarm == "ApiLatencyAlarm":
        threshold = parameter(template, properties["Threshold"])
        assert threshold["Default"] == 5000
        assert threshold["MaxValue"] <= 29000  # API Gateway answers 504 itself after 29 s


def test_outputs_are_the_contract(template: Json) -> None:
    # GIVEN the template's outputs
    outputs = template["Outputs"]
    # WHEN their names and values are read
    # THEN they are the agreed ones, the URLs and ARNs of this stack's resources and the operators' and
    # link minters' policies
    assert set(outputs) == {
        "OperatorPolicyArn",
        "OneClickLinkBaseUrl",
        "OneClickLinkMinterPolicyArn",
        "OneClickLinkKeyArn",
        "OneClickDomainTarget",
        "ApiUrl",
        "QueueUrl",
        "QueueArn",
        "DeadLetterQueueUrl",
        "DeadLetterQueueArn",
        "FunctionName",
        "IdempotencyTableName",
        "DashboardUrl",
    }
    dashboard_url = outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    assert dashboard_url.startswith("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/")
    assert dashboard_url.endswith("#dashboards/dashboard/${Dashboard}")
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${UnsubscribeApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${UnsubscribeApi.Stage}/"
    }
    assert outputs["QueueUrl"]["Value"] == {"Ref": "UnsubscribeQueue"}
    assert outputs["DeadLetterQueueArn"]["Value"] == {"Fn::GetAtt": ["UnsubscribeDeadLetterQueue", "Arn"]}
    assert outputs["IdempotencyTableName"]["Value"] == {"Ref": "IdempotencyTable"}


def test_every_checkov_skip_gives_a_reason(resources: Json) -> None:
    # GIVEN every checkov skip in the template's metadata
    skips = [
        (name, skip)
        for name, body in resources.items()
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    # WHEN each is read
    # THEN it names a check and says why
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
        assert len(skip["comment"]) > 30, (name, skip["id"])


# --- the loader -----------------------------------------------------------------------------------


def test_loader_turns_short_forms_into_long_forms_and_keeps_the_version_a_string() -> None:
    # GIVEN a template in short form
    text = (
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "Resources:\n"
        "  A:\n"
        "    Properties:\n"
        "      Arn: !GetAtt B.Outputs.Arn\n"
        "      Name: !Sub ${AWS::StackName}-a\n"
        "      Flag: !If [Cond, !Ref P, !Ref AWS::NoValue]\n"
        "      Both: !And [!Condition C1, !Not [!Equals [!Ref P, '']]]\n"
    )
    # WHEN it is loaded
    loaded = loads_template(text)
    # THEN every tag has its long form, and the version is a string, not a date
    properties = loaded["Resources"]["A"]["Properties"]
    assert loaded["AWSTemplateFormatVersion"] == "2010-09-09"
    assert properties["Arn"] == {"Fn::GetAtt": ["B", "Outputs.Arn"]}
    assert properties["Name"] == {"Fn::Sub": "${AWS::StackName}-a"}
    assert properties["Flag"] == {"Fn::If": ["Cond", {"Ref": "P"}, {"Ref": "AWS::NoValue"}]}
    assert properties["Both"] == {
        "Fn::And": [{"Condition": "C1"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]}]
    }


def test_loader_rejects_a_repeated_key() -> None:
    # GIVEN YAML that repeats a key (PyYAML would keep the last one silently)
    text = "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n"
    # WHEN it is loaded
    # THEN it is rejected, as CloudFormation rejects it
    with pytest.raises(Exception, match="repeated keys"):
        loads_template(text)


# --- the sample events ----------------------------------------------------------------------------


def test_every_agreed_sample_event_exists() -> None:
    # GIVEN the events folder
    # WHEN its events are listed
    # THEN the agreed ones are all there
    assert {
        "sqs-batch",
        "sqs-sns-wrapped",
        "sqs-eventbridge-wrapped",
        "api-unsubscribe-all",
        "api-unsubscribe-all-status",
        "api-facade-unsubscribe-all",
        "api-facade-batch-unsubscribe-all",
    } <= set(event_names())


@pytest.mark.parametrize("name", [n for n in event_names() if n.startswith("sqs-")])
def test_sqs_events_carry_valid_unsubscribe_requests(name: str) -> None:
    # GIVEN an SQS sample event
    records = load_event(name)["Records"]
    for record in records:
        # WHEN each record's body is unwrapped to the unsubscribe request
        request = unwrap(json.loads(record["body"]))
        # THEN the record is consistent and the request follows the message contract
        assert record["eventSource"] == "aws:sqs"
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
        address = request.get("subscriberIdString", request.get("email"))
        assert isinstance(address, str)
        assert address.endswith("@example.com")
        assert set(request) <= {
            "subscriberIdString",
            "email",
            "businessUnitId",
            "verbose",
            "idempotencyKey",
            "channel",
        }
        assert request.get("businessUnitId", 0) >= 0
        assert request.get("channel", "EMAIL") == "EMAIL"


def test_sqs_batch_event_has_the_optional_fields() -> None:
    # GIVEN the batch sample
    requests = [json.loads(r["body"]) for r in load_event("sqs-batch")["Records"]]
    # WHEN its requests are read
    # THEN there are several, one with a business unit, one with an idempotency key, one aliased
    assert len(requests) >= 3
    assert any("businessUnitId" in r for r in requests)
    assert any("idempotencyKey" in r for r in requests)
    assert any("email" in r for r in requests)
    assert len({r.get("subscriberIdString", r.get("email")) for r in requests}) == len(requests)


@pytest.mark.parametrize(
    ("name", "wrapper"),
    [("sqs-sns-wrapped", "Type"), ("sqs-eventbridge-wrapped", "detail-type")],
)
def test_wrapped_events_are_wrapped(name: str, wrapper: str) -> None:
    # GIVEN a wrapped sample
    bodies = [json.loads(r["body"]) for r in load_event(name)["Records"]]
    # WHEN the bodies are read
    # THEN each is the wrapper, not the plain request
    assert bodies
    assert all(wrapper in body and "subscriberIdString" not in body for body in bodies)


@pytest.mark.parametrize("name", [n for n in event_names() if n.startswith("api-")])
def test_api_events_match_a_template_route_as_api_gateway_rest_sends_it(name: str) -> None:
    # GIVEN an API Gateway (REST, proxy) sample event
    event = load_event(name)
    route = (event["httpMethod"], event["resource"])
    # WHEN its path is compared with its route template and path parameters
    parameters = event["pathParameters"] or {}
    filled = event["resource"]
    for key, value in parameters.items():
        filled = filled.replace("{" + key + "}", urllib.parse.quote(value, safe=""))
    # THEN the route exists, the path is the percent-encoded fill-in of it, the parameters decoded
    assert route in ROUTES
    assert event["path"] == filled
    assert "@" not in event["path"]
    assert all("%" not in value for value in parameters.values())
    assert event["requestContext"]["resourcePath"] == event["resource"]
    assert event["requestContext"]["path"] == f"/{STAGE}{event['path']}"
    assert event["requestContext"]["stage"] == STAGE
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["identity"]["userArn"].startswith("arn:aws:iam::")
    if event["body"] is not None:
        assert event["headers"]["Content-Type"] == "application/json"
        json.loads(event["body"])


def test_api_unsubscribe_all_event_has_a_body_and_an_idempotency_key() -> None:
    # GIVEN the POST /unsubscribe-all sample
    event = load_event("api-unsubscribe-all")
    # WHEN its body and headers are read
    body = json.loads(event["body"])
    # THEN it names an example.com subscriber and carries an Idempotency-Key (single and multi-value)
    assert body["subscriberIdString"].endswith("@example.com")
    assert event["headers"]["Idempotency-Key"]
    assert event["multiValueHeaders"]["Idempotency-Key"] == [event["headers"]["Idempotency-Key"]]


def test_load_event_returns_a_fresh_copy() -> None:
    # GIVEN a loaded event that a test changed
    first = load_event("sqs-batch")
    first["Records"].clear()
    # WHEN it is loaded again
    second = load_event("sqs-batch.json")
    # THEN the change did not leak
    assert second["Records"]
