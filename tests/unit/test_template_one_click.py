"""template.yaml's one-click links: the key and who may use it, the minters' policy, the custom domain."""

from __future__ import annotations

from typing import Any

from tests.unit import test_template as contract
from tests.unit.test_template import as_list, statements

Json = dict[str, Any]
template = contract.template
resources = contract.resources
# What could use the key's material or hand it to someone: never for the account's administrators.
KEY_USE = {"kms:encrypt", "kms:decrypt", "kms:reencryptfrom", "kms:reencryptto", "kms:creategrant"}


def test_the_key_is_kept_rotated_and_only_for_encryption(resources: Json) -> None:
    # GIVEN the links' key
    key = resources["OneClickLinkKey"]
    # WHEN its properties are read
    properties = key["Properties"]
    # THEN it outlives the stack (links already sent must keep working), rotates, and only encrypts
    assert key["Type"] == "AWS::KMS::Key"
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert properties["EnableKeyRotation"] is True
    assert (properties["KeySpec"], properties["KeyUsage"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    assert properties["PendingWindowInDays"] == 30


def test_only_the_function_uses_the_key_and_only_under_the_links_context(resources: Json) -> None:
    # GIVEN the key policy
    policy = resources["OneClickLinkKey"]["Properties"]["KeyPolicy"]
    administer, use = statements(policy)
    # WHEN its statements are read
    # THEN the account administers the key without using it, by name, never with a wildcard
    assert administer["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    actions = {action.lower() for action in as_list(administer["Action"])}
    assert not any("*" in action for action in actions)
    assert not actions & KEY_USE
    assert {"kms:putkeypolicy", "kms:schedulekeydeletion", "kms:enablekeyrotation"} <= actions
    # AND the function's role alone encrypts and decrypts, only with the purpose and this stack named
    assert use["Principal"] == {"AWS": {"Fn::GetAtt": ["UnsubscribeAllFunctionRole", "Arn"]}}
    assert set(as_list(use["Action"])) == {"kms:Encrypt", "kms:Decrypt"}
    assert use["Condition"] == {
        "StringEquals": {
            "kms:EncryptionContext:purpose": "one-click-unsubscribe",
            "kms:EncryptionContext:stack": {"Ref": "AWS::StackName"},
        }
    }
    assert all(statement["Effect"] == "Allow" for statement in (administer, use))


def test_the_functions_role_grants_nothing_on_the_links_key(resources: Json) -> None:
    # GIVEN the role's statements
    document = resources["UnsubscribeAllFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    # WHEN they are searched for the key
    # THEN none names it (the key policy alone grants its use, so no IAM policy can widen it)
    assert "OneClickLinkKey" not in str(document)


def mint_route_arn() -> Json:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${UnsubscribeApi}"
        "/${UnsubscribeApi.Stage}/POST/one-click-links"
    }


def test_link_minters_and_operators_may_mint_and_nothing_more(resources: Json) -> None:
    # GIVEN the minters' policy and the operators'
    (minting,) = statements(resources["OneClickLinkMinterPolicy"]["Properties"]["PolicyDocument"])
    operators = statements(resources["OperatorPolicy"]["Properties"]["PolicyDocument"])
    # WHEN their statements for the minting route are read
    # THEN each grants execute-api:Invoke on POST /one-click-links of this stage only
    assert (minting["Effect"], minting["Action"], minting["Resource"]) == (
        "Allow",
        "execute-api:Invoke",
        mint_route_arn(),
    )
    assert [s["Resource"] for s in operators if s["Sid"] == "MintOneClickLinks"] == [mint_route_arn()]


def test_the_custom_domain_is_optional_needs_its_certificate_and_maps_the_stage_at_its_root(
    template: Json, resources: Json
) -> None:
    # GIVEN the domain's parameters, condition, rule and resources
    domain, mapping = resources["OneClickDomain"], resources["OneClickBasePathMapping"]
    rule = template["Rules"]["OneClickDomainNeedsItsCertificate"]
    # WHEN they are read
    # THEN no domain is the default; a domain needs its certificate; it is regional, TLS 1.2, and
    # mapped at its root (links read https://DOMAIN/one-click/TOKEN)
    assert template["Parameters"]["OneClickDomainName"]["Default"] == ""
    assert template["Conditions"]["HasOneClickDomain"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "OneClickDomainName"}, ""]}]
    }
    assert rule["Assertions"] == [
        {
            "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "OneClickCertificateArn"}, ""]}]},
            "AssertDescription": rule["Assertions"][0]["AssertDescription"],
        }
    ]
    assert domain["Condition"] == mapping["Condition"] == "HasOneClickDomain"
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["Properties"]["RegionalCertificateArn"] == {"Ref": "OneClickCertificateArn"}
    assert "BasePath" not in mapping["Properties"]
    assert mapping["Properties"]["RestApiId"] == {"Ref": "UnsubscribeApi"}


def test_the_link_base_url_output_names_the_domain_when_there_is_one(template: Json) -> None:
    value = template["Outputs"]["OneClickLinkBaseUrl"]["Value"]
    assert value == {
        "Fn::If": [
            "HasOneClickDomain",
            {"Fn::Sub": "https://${OneClickDomainName}/one-click/"},
            {
                "Fn::Sub": "https://${UnsubscribeApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
                "/${UnsubscribeApi.Stage}/one-click/"
            },
        ]
    }
    assert template["Outputs"]["OneClickDomainTarget"]["Condition"] == "HasOneClickDomain"


def test_links_live_three_years_by_default_and_never_less_than_30_days(template: Json) -> None:
    age = template["Parameters"]["OneClickLinkMaxAgeDays"]
    assert (age["Default"], age["MinValue"], age["MaxValue"]) == (1095, 30, 3650)
    for name in ("OneClickThrottlingRateLimit", "OneClickThrottlingBurstLimit"):
        assert template["Parameters"][name]["Default"] > 0
