"""The function's AWS resources on the local AWS, created from template.yaml's own properties.

Queue, dead-letter queue, idempotency table, token secret and one-click links' KMS key get the
attributes the template gives them (visibility timeout, retention, redrive policy, key schema, TTL
attribute, encryption at rest; the key's spec, usage and rotation), and the function's environment
is the template's, with references resolved to the local resources, so local runs and the deployed
stack cannot drift apart. Names carry a prefix, so
several stacks (parallel tests) share one endpoint without meeting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from local.aws.cfn_template import Template, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
FUNCTION = "UnsubscribeAllFunction"
QUEUE = "UnsubscribeQueue"
DEAD_LETTER_QUEUE = "UnsubscribeDeadLetterQueue"
TABLE = "IdempotencyTable"
LINK_KEY = "OneClickLinkKey"
SECRET_PARAMETER = "HubSpotTokenSecretName"  # noqa: S105 - a parameter name, not a secret


@dataclass(frozen=True)
class QueueOverrides:
    """Local-only changes to the template's queue attributes (short timeouts for fast tests)."""

    visibility_timeout_s: int | None = None
    max_receive_count: int | None = None


@dataclass(frozen=True)
class LocalResources:
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    table_name: str
    secret_id: str
    # Template parameters as resolved for this stack (defaults, then overrides).
    parameters: Mapping[str, str] = field(default_factory=dict)
    # The prefix every name carries: what the stack's name would be.
    stack_name: str = ""
    link_key_arn: str = ""  # the one-click links' KMS key


class TemplateReader:
    """Reads resource properties and parameters, resolving `Ref`s to parameters and `Fn::If`s."""

    def __init__(self, template: Template, parameter_overrides: Mapping[str, str] | None = None) -> None:
        self.template = template
        declared = template.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(parameter_overrides or {})

    @classmethod
    def from_file(
        cls, path: Path = TEMPLATE_PATH, parameter_overrides: Mapping[str, str] | None = None
    ) -> TemplateReader:
        return cls(load_template(path), parameter_overrides)

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.template["Resources"][logical_id]["Properties"]
        return properties

    def function_globals(self) -> dict[str, Any]:
        globals_: dict[str, Any] = self.template.get("Globals", {}).get("Function", {})
        return globals_

    def value(self, node: Any, resources: Mapping[str, str] | None = None) -> Any:
        """A property value with `Ref`s to parameters (and, when given, resources, pseudo parameters
        and `GetAtt`s, named `Resource.Attribute`) and `Fn::If`s resolved; None for `AWS::NoValue`,
        a property the template leaves out."""
        if isinstance(node, dict) and set(node) == {"Fn::If"}:
            condition, if_true, if_false = node["Fn::If"]
            return self.value(if_true if self.condition(condition) else if_false, resources)
        if isinstance(node, dict) and set(node) == {"Ref"}:
            name = node["Ref"]
            if name == "AWS::NoValue":
                return None
            if name in self.parameters:
                return self.parameters[name]
            if resources is not None and name in resources:
                return resources[name]
            raise KeyError(f"template reference {name!r} cannot be resolved locally")
        if isinstance(node, dict) and set(node) == {"Fn::GetAtt"}:
            name = ".".join(node["Fn::GetAtt"])
            if resources is not None and name in resources:
                return resources[name]
            raise KeyError(f"template attribute {name!r} cannot be resolved locally")
        return node

    def condition(self, name: str) -> bool:
        """A condition of the template, with its parameters' values."""
        return self._truth(self.template["Conditions"][name])

    def _truth(self, node: Any) -> bool:
        [(function, argument)] = node.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (self.value(item) for item in argument)
            return bool(left == right)
        if function == "Fn::Not":
            return not self._truth(argument[0])
        if function == "Fn::And":
            return all(map(self._truth, argument))
        if function == "Fn::Or":
            return any(map(self._truth, argument))
        raise KeyError(f"condition function {function!r} cannot be evaluated locally")


def _create_queue(
    sqs: SQSClient, name: str, attributes: Mapping[QueueAttributeNameType, str]
) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _queue_attributes(reader: TemplateReader, logical_id: str) -> dict[QueueAttributeNameType, str]:
    properties = reader.properties(logical_id)
    attributes: dict[QueueAttributeNameType, str] = {}
    names: tuple[QueueAttributeNameType, ...] = (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "MaximumMessageSize",
    )
    for name in names:
        if name in properties:
            attributes[name] = str(reader.value(properties[name]))
    if properties.get("SqsManagedSseEnabled"):
        attributes["SqsManagedSseEnabled"] = "true"
    return attributes


def _create_link_key(kms: KMSClient, reader: TemplateReader, name_prefix: str) -> str:
    properties = reader.properties(LINK_KEY)
    key = kms.create_key(
        Description=f"{name_prefix}: {properties['Description']}",
        KeySpec=properties["KeySpec"],
        KeyUsage=properties["KeyUsage"],
    )["KeyMetadata"]
    if properties.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return key["Arn"]


def create_resources(
    reader: TemplateReader,
    name_prefix: str,
    token: str,
    *,
    overrides: QueueOverrides | None = None,
    session: boto3.session.Session | None = None,
) -> LocalResources:
    """Creates the queue (with its redrive policy), the DLQ, the table, the token secret, the links' key."""
    session = session or boto3.session.Session()
    sqs: SQSClient = session.client("sqs")
    kms: KMSClient = session.client("kms")
    dynamodb: DynamoDBClient = session.client("dynamodb")
    secrets: SecretsManagerClient = session.client("secretsmanager")
    overrides = overrides or QueueOverrides()

    dlq_url, dlq_arn = _create_queue(sqs, f"{name_prefix}-dlq", _queue_attributes(reader, DEAD_LETTER_QUEUE))

    queue_attributes = _queue_attributes(reader, QUEUE)
    redrive = reader.properties(QUEUE)["RedrivePolicy"]
    max_receive_count = overrides.max_receive_count or int(reader.value(redrive["maxReceiveCount"]))
    queue_attributes["RedrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
    )
    if overrides.visibility_timeout_s is not None:
        queue_attributes["VisibilityTimeout"] = str(overrides.visibility_timeout_s)
    queue_url, queue_arn = _create_queue(sqs, f"{name_prefix}-queue", queue_attributes)

    table = reader.properties(TABLE)
    table_name = f"{name_prefix}-idempotency"
    dynamodb.create_table(
        TableName=table_name,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
        SSESpecification={"Enabled": bool(table.get("SSESpecification", {}).get("SSEEnabled", False))},
    )
    ttl = table["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
    )

    secret_id = f"{name_prefix}/{reader.parameters[SECRET_PARAMETER]}"
    secrets.create_secret(Name=secret_id, SecretString=json.dumps({"token": token}))
    return LocalResources(
        queue_url,
        queue_arn,
        dlq_url,
        dlq_arn,
        table_name,
        secret_id,
        dict(reader.parameters),
        name_prefix,
        _create_link_key(kms, reader, name_prefix),
    )


def function_environment(
    reader: TemplateReader, resources: LocalResources, hubspot_base_url: str
) -> dict[str, str]:
    """The function's environment from the template, pointed at the local resources and HubSpot."""
    variables: dict[str, Any] = {
        **reader.function_globals().get("Environment", {}).get("Variables", {}),
        **reader.properties(FUNCTION).get("Environment", {}).get("Variables", {}),
    }
    by_logical_id = {
        QUEUE: resources.queue_url,
        DEAD_LETTER_QUEUE: resources.dead_letter_queue_url,
        TABLE: resources.table_name,
        f"{LINK_KEY}.Arn": resources.link_key_arn,
        "AWS::StackName": resources.stack_name,
    }
    resolved = {name: reader.value(value, by_logical_id) for name, value in variables.items()}
    environment = {name: str(value) for name, value in resolved.items() if value is not None}
    environment["HUBSPOT_TOKEN_SECRET_ID"] = resources.secret_id
    environment["HUBSPOT_BASE_URL"] = hubspot_base_url
    return environment
