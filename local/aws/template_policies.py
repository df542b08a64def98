"""The policies template.yaml gives the function and the operators, as deployed, for a local stack.

SAM's translator (samtranslator, installed with aws-sam-cli) turns the template into what
CloudFormation deploys; the function's execution role and `OperatorPolicy` are read from that,
and their intrinsic functions resolved as CloudFormation would for the local stack: parameters
(the local secret's name among them), pseudo parameters (moto's account and region), conditions,
and the names, URLs and ARNs of the local queues, table, key, role and API.

The one-click links' key is used under its key policy, not the role's: its statements that name
the function's role are the function's KMS permissions (`FUNCTION_KEY_POLICY`), with the key
policy's `Resource: "*"` (this key) read as the key's ARN. Statements naming the account only
delegate to IAM policies, and the function's role grants no KMS action.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

from local.aws.cfn_template import Template, load_template
from local.aws.iam_policy import Policy
from local.aws.moto_endpoint import ACCOUNT_ID, REGION
from local.aws.resources import (
    DEAD_LETTER_QUEUE,
    FUNCTION,
    LINK_KEY,
    QUEUE,
    SECRET_PARAMETER,
    TABLE,
    TEMPLATE_PATH,
    LocalResources,
)
from local.runners.api_gateway import API_ID

FUNCTION_ROLE = "the function's role"
FUNCTION_KEY_POLICY = "OneClickLinkKey's key policy"
OPERATOR_POLICY = "OperatorPolicy"
ROLE = "UnsubscribeAllFunctionRole"
_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvableError(ValueError):
    """The policy refers to something the local stack has no value for."""


class _NoManagedPolicies:
    """SAM asks for AWS managed policies' ARNs by name; the function's role names none."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: Template) -> Template:
    """What SAM makes of the template: CloudFormation without the Serverless shorthand."""
    sam_template = copy.deepcopy(template)
    sam_template["Resources"][FUNCTION]["Properties"]["CodeUri"] = "s3://bucket/function.zip"
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION  # SAM derives the partition from it
    try:
        translated: Template = transform(sam_template, {}, _NoManagedPolicies())
    finally:
        if region is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = region
    return translated


@dataclass(frozen=True)
class _Resolver:
    translated: Template
    parameters: Mapping[str, str]
    refs: Mapping[str, str]
    attributes: Mapping[tuple[str, str], str]

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in map(self.value, node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(name, argument)] = node.items()
            functions: dict[str, Callable[[Any], Any]] = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Sub": self._sub,
                "Fn::If": self._if,
                "Fn::Join": self._join,
            }
            function = functions.get(name)
            if function is not None:
                return function(argument)
        resolved = {key: self.value(item) for key, item in node.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        resource = self.translated["Resources"].get(name, {})
        if resource.get("Type") == "AWS::ApiGateway::Stage":
            return self.value(resource["Properties"]["StageName"])
        raise UnresolvableError(f"no local value for Ref {name}")

    def _get_att(self, argument: list[str]) -> str:
        key = (argument[0], argument[1])
        if key not in self.attributes:
            raise UnresolvableError(f"no local value for GetAtt {'.'.join(key)}")
        return self.attributes[key]

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.value(variables[name]))
            if "." in name:
                return self._get_att(name.split(".", 1))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _if(self, argument: list[Any]) -> Any:
        condition, if_true, if_false = argument
        return self.value(if_true if self.condition(condition) else if_false)

    def _join(self, argument: list[Any]) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self.value(items))

    def condition(self, name: str) -> bool:
        return self._truth(self.translated["Conditions"][name])

    def _truth(self, node: Any) -> bool:
        [(name, argument)] = node.items()
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::Equals":
            left, right = (self.value(item) for item in argument)
            return bool(left == right)
        if name == "Fn::Not":
            return not self._truth(argument[0])
        if name == "Fn::And":
            return all(map(self._truth, argument))
        if name == "Fn::Or":
            return any(map(self._truth, argument))
        raise UnresolvableError(f"condition function {name} is not evaluated locally")


def _resolver(translated: Template, resources: LocalResources) -> _Resolver:
    stack, arn = resources.stack_name, f"arn:aws:%s:{REGION}:{ACCOUNT_ID}:%s"
    parameters = {
        name: str(spec.get("Default", "")) for name, spec in translated.get("Parameters", {}).items()
    }
    parameters |= dict(resources.parameters)
    parameters |= {
        SECRET_PARAMETER: resources.secret_id,
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": stack,
        "AWS::URLSuffix": "amazonaws.com",
    }
    queue_name, dlq_name = (
        url.rsplit("/", 1)[-1] for url in (resources.queue_url, resources.dead_letter_queue_url)
    )
    function_name = f"{stack}-unsubscribe-all"
    return _Resolver(
        translated,
        parameters,
        refs={
            QUEUE: resources.queue_url,
            DEAD_LETTER_QUEUE: resources.dead_letter_queue_url,
            TABLE: resources.table_name,
            FUNCTION: function_name,
            "UnsubscribeApi": API_ID,
        },
        attributes={
            (QUEUE, "Arn"): resources.queue_arn,
            (QUEUE, "QueueName"): queue_name,
            (DEAD_LETTER_QUEUE, "Arn"): resources.dead_letter_queue_arn,
            (DEAD_LETTER_QUEUE, "QueueName"): dlq_name,
            (TABLE, "Arn"): arn % ("dynamodb", f"table/{resources.table_name}"),
            ("UnsubscribeAllFunctionLogGroup", "Arn"): arn
            % ("logs", f"log-group:/aws/lambda/{function_name}:*"),
            (LINK_KEY, "Arn"): resources.link_key_arn,
            (ROLE, "Arn"): function_role_arn(resources),
        },
    )


def function_role_arn(resources: LocalResources) -> str:
    """What the function's role would be called in the local stack's account."""
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{resources.stack_name}-{ROLE}"


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    named = principal.get("AWS", []) if isinstance(principal, dict) else principal
    return [str(item) for item in (named if isinstance(named, list) else [named])]


def _key_statements_for(
    translated: Template, resolver: _Resolver, principal_arn: str, key_arn: str
) -> list[dict[str, Any]]:
    """The key policy's statements that name `principal_arn`, as an identity policy of it."""
    document = resolver.value(translated["Resources"][LINK_KEY]["Properties"]["KeyPolicy"])
    return [
        {
            **{name: value for name, value in statement.items() if name != "Principal"},
            "Resource": key_arn if statement.get("Resource") == "*" else statement.get("Resource"),
        }
        for statement in document["Statement"]
        if principal_arn in _principals(statement) or "*" in _principals(statement)
    ]


def _function_role_statements(translated: Template, resolver: _Resolver) -> list[dict[str, Any]]:
    function = translated["Resources"][FUNCTION]["Properties"]
    role_name = function["Role"]["Fn::GetAtt"][0]
    role = resolver.value(translated["Resources"][role_name]["Properties"])
    if role.get("ManagedPolicyArns"):
        raise UnresolvableError(f"{role_name} has managed policies, which cannot be read locally")
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


@cache
def _translated(template_path: Path, modified_ns: int) -> Template:
    return translate(load_template(template_path))


def template_policies(resources: LocalResources, template_path: Path = TEMPLATE_PATH) -> dict[str, Policy]:
    """The function role's, its part of the links' key policy, and the operators' policies, for the
    local stack `resources` belong to."""
    translated = _translated(template_path, template_path.stat().st_mtime_ns)
    resolver = _resolver(translated, resources)
    operator = resolver.value(translated["Resources"][OPERATOR_POLICY]["Properties"]["PolicyDocument"])
    key_statements = _key_statements_for(
        translated, resolver, function_role_arn(resources), resources.link_key_arn
    )
    return {
        FUNCTION_ROLE: Policy.of(_function_role_statements(translated, resolver)),
        FUNCTION_KEY_POLICY: Policy.of(key_statements),
        OPERATOR_POLICY: Policy.of(operator["Statement"]),
    }
