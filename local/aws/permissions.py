"""Each AWS call of the function, Lambda's event source and the operator CLI, checked against template.yaml.

IAM is not enforced locally (as with `sam local`), so this stands in for it before a deploy: every
call the local AWS recorded (`call_log`) is turned into the IAM actions and resource ARNs it needs
(a batch operation needs its single action; a message move task needs the source queue's receive,
delete and attributes, and the destination's send, as SQS documents), and each must be allowed by
the policy template.yaml gives its caller, as SAM translates it, with this stack's ARNs in it
(`template_policies`): the function's execution role for the function and for the event source
(Lambda polls with it), `OperatorPolicy` for the CLI. The function's KMS calls (one-click links)
are checked against the links' key policy instead, with the call's encryption context as the
condition keys `kms:EncryptionContext:*`, and only on this stack's key. A call the check cannot
map is a problem too, so nothing new goes unchecked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from local.aws.call_log import ENCRYPTION_CONTEXT, AwsCall
from local.aws.iam_policy import Decision, Policy
from local.aws.moto_endpoint import ACCOUNT_ID, REGION
from local.aws.resources import TEMPLATE_PATH, LocalResources
from local.aws.template_policies import (
    FUNCTION_KEY_POLICY,
    FUNCTION_ROLE,
    OPERATOR_POLICY,
    template_policies,
)
from local.runners.sqs_event_source import USER_AGENT_APP_ID as EVENT_SOURCE
from operator_cli.targets import USER_AGENT_APP_ID as OPERATOR_CLI
from optout.aws.clients import USER_AGENT_APP_ID as FUNCTION

# Whose policy each caller's calls are checked against.
POLICY_OF = {FUNCTION: FUNCTION_ROLE, EVENT_SOURCE: FUNCTION_ROLE, OPERATOR_CLI: OPERATOR_POLICY}
# Batch operations are authorised as their single action.
_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


@dataclass(frozen=True)
class Permission:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()  # condition keys and values the request carries


@dataclass(frozen=True)
class Problem:
    call: AwsCall
    permission: Permission | None  # None: the call could not be mapped to permissions
    why: str

    def __str__(self) -> str:
        needed = f"{self.permission.action} on {self.permission.resource}" if self.permission else "?"
        return f"{self.call.principal} {self.call.service}:{self.call.operation} needs {needed}: {self.why}"


@dataclass(frozen=True)
class ArnLookup:
    """ARNs the local AWS gives resources that calls name otherwise (a secret's random suffix)."""

    secret_arn: Callable[[str], str]
    stack_arn: Callable[[str], str]


def _queue_arn(call: AwsCall, queue_url: str) -> str:
    account, name = urlsplit(queue_url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{call.region}:{account}:{name}"


def required_permissions(call: AwsCall, lookup: ArnLookup) -> list[Permission]:
    """What IAM must allow for the call; ValueError when the check does not know the call."""
    arn = f"arn:aws:%s:{call.region}:%s:%s"
    if call.service == "sqs":
        if call.operation == "StartMessageMoveTask":
            source, destination = call.parameter("SourceArn"), call.parameter("DestinationArn")
            if source is None or destination is None:
                raise ValueError("a message move task without both SourceArn and DestinationArn")
            on_source = ("StartMessageMoveTask", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
            return [Permission(f"sqs:{action}", source) for action in on_source] + [
                Permission("sqs:SendMessage", destination)
            ]
        if call.operation == "ListMessageMoveTasks" and (source := call.parameter("SourceArn")):
            return [Permission("sqs:ListMessageMoveTasks", source)]
        if queue_url := call.parameter("QueueUrl"):
            action = _SQS_ACTIONS.get(call.operation, call.operation)
            return [Permission(f"sqs:{action}", _queue_arn(call, queue_url))]
    if call.service == "dynamodb" and (tables := call.parameters("TableName")):
        return [
            Permission(f"dynamodb:{call.operation}", arn % ("dynamodb", ACCOUNT_ID, f"table/{table}"))
            for table in tables
        ]
    if call.service == "kms" and (key := call.parameter("KeyId")):
        if not key.startswith("arn:"):
            raise ValueError("a KMS call must name its key by ARN, as the function's settings do")
        prefix = f"{ENCRYPTION_CONTEXT}:"
        context = tuple((f"kms:{name}", value) for name, value in call.resources if name.startswith(prefix))
        return [Permission(f"kms:{call.operation}", key, context)]
    if call.service == "secretsmanager" and (secret := call.parameter("SecretId")):
        resource = secret if secret.startswith("arn:") else lookup.secret_arn(secret)
        return [Permission(f"secretsmanager:{call.operation}", resource)]
    if call.service == "execute-api":
        api, stage, method, path = (
            call.parameter(name) or "" for name in ("ApiId", "Stage", "Method", "Path")
        )
        return [
            Permission(
                "execute-api:Invoke", arn % ("execute-api", ACCOUNT_ID, f"{api}/{stage}/{method}{path}")
            )
        ]
    if call.service == "cloudformation" and (stack := call.parameter("StackName")):
        resource = stack if stack.startswith("arn:") else lookup.stack_arn(stack)
        return [Permission(f"cloudformation:{call.operation}", resource)]
    raise ValueError("the permission check does not know this call: add it to local/aws/permissions.py")


def check(calls: Iterable[AwsCall], policies: Mapping[str, Policy], lookup: ArnLookup) -> list[Problem]:
    """Every permission the calls need that their caller's policy does not grant."""
    problems: list[Problem] = []
    for call in calls:
        policy_name = POLICY_OF.get(call.principal)
        if policy_name is None:
            problems.append(Problem(call, None, "template.yaml gives this caller no policy the check knows"))
            continue
        try:
            needed = required_permissions(call, lookup)
        except ValueError as error:
            problems.append(Problem(call, None, str(error)))
            continue
        for permission in needed:
            # The links' key is used under its key policy, not the role's.
            granting = FUNCTION_KEY_POLICY if permission.action.startswith("kms:") else policy_name
            decision = policies[granting].decision(
                permission.action, permission.resource, dict(permission.context)
            )
            if decision is not Decision.ALLOWED:
                problems.append(Problem(call, permission, f"{decision.value} by {granting}"))
    return problems


def check_stack_calls(
    calls: Iterable[AwsCall],
    resources: LocalResources,
    lookup: ArnLookup,
    template_path: Path = TEMPLATE_PATH,
) -> list[Problem]:
    """`check` for the calls on this stack: all but those naming only another stack's resources
    (a call that outlived its test, on that test's stack, is that stack's to check)."""
    ours = [
        call
        for call in calls
        if not call.resources
        or call.service == "execute-api"
        or any(resources.stack_name in value for _, value in call.resources)
    ]
    return check(ours, template_policies(resources, template_path), lookup)


def moto_lookup(session: boto3.session.Session, endpoint_url: str) -> ArnLookup:
    """ARNs read from the local AWS (with no app id: these reads are not recorded)."""

    def secret_arn(name: str) -> str:
        secrets = session.client("secretsmanager", endpoint_url=endpoint_url, region_name=REGION)
        try:
            return str(secrets.describe_secret(SecretId=name)["ARN"])
        except ClientError:  # deleted since: the ARN AWS would have given it, suffix and all
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-000000"

    def stack_arn(name: str) -> str:
        stacks = session.client("cloudformation", endpoint_url=endpoint_url, region_name=REGION)
        try:
            return str(stacks.describe_stacks(StackName=name)["Stacks"][0]["StackId"])
        except ClientError:
            return f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{name}/{uuid.UUID(int=0)}"

    return ArnLookup(cache(secret_arn), cache(stack_arn))
