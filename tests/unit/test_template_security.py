"""Least privilege and secrets in what CloudFormation really deploys: SAM's translation of template.yaml.

test_template.py pins the template's own statements, routes and encryption. These checks read the
translation too, so nothing SAM generates (roles, Lambda permissions) widens them, and they look for
a secret where a template could leak one: parameter defaults and environment values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from local.aws.cfn_template import resources_of_type
from tests.unit import test_template as contract
from tests.unit.test_template import ROUTES, XRAY_ACTIONS, as_list, statements

Json = dict[str, Any]
# The contract tests' fixtures: the template as CloudFormation reads it, and SAM's translation.
template = contract.template
translated = contract.translated
# Where a resource pattern may hold a wildcard, and why AWS allows nothing narrower.
WILDCARD_RESOURCES = {
    # API Gateway's account-wide logging role serves every API's log groups in the account and
    # region (AWS's own AmazonAPIGatewayPushToCloudWatchLogs grants "*"); it is narrowed to log groups.
    ("ApiGatewayAccountLogRole", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
    # CodeDeploy reads and moves the alias `live` of this function only; the qualifier is the alias or
    # the version a deploy publishes (a new number each time).
    (
        "DeploymentRole",
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-unsubscribe-all:*",
    ),
    # A stack's ARN ends in an id CloudFormation makes up; the name is this stack's.
    (
        "OperatorPolicy",
        "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AWS::StackName}/*",
    ),
    # Every address's status: the path holds the address, so the route is as narrow as it gets.
    (
        "OperatorPolicy",
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${UnsubscribeApi}"
        "/${UnsubscribeApiapiStage}/GET/unsubscribe-all/*",
    ),
}
TOKEN_SHAPES = (
    re.compile(r"pat-[a-z0-9]+-[0-9a-f]{8}-"),  # a HubSpot private-app token
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),  # a bare UUID (legacy keys)
    re.compile(r"(?i)bearer\s"),
    re.compile(r"[A-Za-z0-9+_=]{32,}"),  # anything long and random-looking
)
SECRET_WORDS = re.compile(r"(?i)token|secret|password|api_?key|credential")


def policy_documents(resources: Json) -> Iterator[tuple[str, Json]]:
    """(resource name, policy document) for every inline policy, managed policy and resource policy."""
    for name, body in resources.items():
        properties = body.get("Properties", {})
        for policy in properties.get("Policies", []):
            yield name, policy["PolicyDocument"]
        if "PolicyDocument" in properties:
            yield name, properties["PolicyDocument"]


def pattern_of(resource: Any) -> str:
    """A resource as the text of its ARN pattern (`Fn::Sub` text, else a marker for a reference)."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return str(sub if isinstance(sub, str) else sub[0])
    return "<reference to a resource>"


def test_no_allow_in_the_deployed_template_uses_a_wildcard_aws_could_narrow(translated: Json) -> None:
    # GIVEN every Allow statement in SAM's translation, generated policies included
    allows = [
        (name, statement)
        for name, document in policy_documents(translated["Resources"])
        for statement in statements(document)
        if statement["Effect"] == "Allow"
    ]
    assert {name for name, _ in allows} == {
        "UnsubscribeAllFunctionRole",
        "ApiGatewayAccountLogRole",
        "DeploymentRole",  # CodeDeploy moving the alias live (test_template pins it)
        "AlarmTopicPolicy",  # CloudWatch publishing this stack's alarms (test_template pins it)
        "OperatorPolicy",  # the operator CLI's, checked against its calls in tests/integration
        "OneClickLinkMinterPolicy",  # producers minting links (test_template_one_click pins it)
    }

    # WHEN their actions and resource patterns are checked for wildcards
    # THEN no action has one, "*" is a resource only for X-Ray's two actions, and any other
    # wildcard in a resource pattern is one of the listed exceptions
    for name, statement in allows:
        actions = set(as_list(statement["Action"]))
        assert not any("*" in action for action in actions), (name, actions)
        for pattern in map(pattern_of, as_list(statement["Resource"])):
            if pattern == "*":
                assert actions == XRAY_ACTIONS, (name, actions)
            elif "*" in pattern:
                assert (name, pattern) in WILDCARD_RESOURCES, (name, pattern)


def test_every_role_can_be_assumed_by_one_aws_service_only(translated: Json) -> None:
    # GIVEN every role of the translation
    roles = resources_of_type(translated, "AWS::IAM::Role")
    assert roles
    # WHEN their trust policies are read
    # THEN each trusts exactly one AWS service, never an account or everyone
    for name, role in roles.items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert set(statement["Principal"]) == {"Service"}, name
            assert re.fullmatch(r"[a-z]+\.amazonaws\.com", statement["Principal"]["Service"]), name


def test_only_this_apis_routes_may_invoke_the_function(translated: Json) -> None:
    # GIVEN the Lambda permissions SAM generated
    permissions = resources_of_type(translated, "AWS::Lambda::Permission")
    # WHEN their principals and source ARNs are read
    # THEN there is one per route: API Gateway, for this API, for that route's method and path only
    granted = set()
    for permission in (body["Properties"] for body in permissions.values()):
        assert (permission["Principal"], permission["Action"]) == (
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
        )
        arn, variables = permission["SourceArn"]["Fn::Sub"]
        assert variables["__ApiId__"] == {"Ref": "UnsubscribeApi"}
        method, _, path = arn.split("${__Stage__}/", 1)[1].partition("/")
        granted.add((method, "/" + path))
    expected = {(method, re.sub(r"\{[^}]+\}", "*", path)) for method, path in ROUTES}
    assert granted == expected


def test_the_queue_policy_only_denies(translated: Json) -> None:
    # GIVEN the queues' resource policy, WHEN its statements are read, THEN none grants anything
    [policy] = resources_of_type(translated, "AWS::SQS::QueuePolicy").values()
    assert {statement["Effect"] for statement in statements(policy["Properties"]["PolicyDocument"])} == {
        "Deny"
    }


def test_no_parameter_default_or_environment_value_holds_a_secret(template: Json, translated: Json) -> None:
    # GIVEN every parameter default and the deployed function's environment
    defaults = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    [function] = resources_of_type(translated, "AWS::Lambda::Function").values()
    environment = function["Properties"]["Environment"]["Variables"]

    # WHEN the literal values are searched for anything shaped like a token
    literals = {**defaults, **{name: value for name, value in environment.items() if isinstance(value, str)}}
    # THEN there is none
    for name, value in literals.items():
        assert not any(shape.search(value) for shape in TOKEN_SHAPES), name

    # AND the one environment variable about the token holds the secret's name (a parameter), not a value
    secret_variables = {name for name in environment if SECRET_WORDS.search(name)}
    assert secret_variables == {"HUBSPOT_TOKEN_SECRET_ID"}
    assert environment["HUBSPOT_TOKEN_SECRET_ID"] == {"Ref": "HubSpotTokenSecretName"}
    assert "/" in defaults["HubSpotTokenSecretName"]  # a secret's path-like name
