"""openapi.yaml is a valid OpenAPI 3.1 document of every route, and the facade is HubSpot's.

HubSpot's own OpenAPI documents are read from ../shared/reference when it exists (beside the
checkout); the checks against them are skipped elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from local.aws.cfn_template import load_template
from local.runners.api_contract import VERSION_DIFFERENCES, with_differences
from optout.hubspot.versions import PUBLISHED_VERSIONS
from tests.contract import ROOT, message_schema, openapi_document, openapi_validator

REFERENCE = ROOT.parent / "shared" / "reference"
HUBSPOT_V4 = REFERENCE / "hubspot-communication-preferences-v4.openapi.json"
HUBSPOT_PREFIX = "/communication-preferences/{version}"
# The schemas openapi.yaml copies from HubSpot's v4 document, for the facade's bodies and errors.
HUBSPOT_SCHEMAS = [
    "ActionResponseWithResultsPublicStatus",
    "ActionResponseWithResultsPublicWideStatus",
    "BatchResponsePublicBulkOptOutFromAllResponse",
    "BatchInputString",
    "PublicStatus",
    "PublicWideStatus",
    "PublicBulkOptOutFromAllResponse",
    "StandardError",
    "ErrorDetail",
    "Error",
]
# What any route may answer: bad input, API Gateway's refusal, and the failures that may pass.
EVERY_ROUTES_ERRORS = {"400", "403", "429", "500", "502", "503", "504"}
# The one-click link itself (no credentials, so no 403): not a link, expired, and the same failures.
ONE_CLICK_LINK = "/one-click/{token}"
ONE_CLICK_LINKS_ERRORS = {"404", "410", "429", "500", "502", "503", "504"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

DOCUMENT = openapi_document()


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def resolved(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    target: Any = DOCUMENT
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return dict(target)


def parameters_of(path: str, method: str) -> list[dict[str, Any]]:
    item = DOCUMENT["paths"][path]
    return [resolved(p) for p in item.get("parameters", []) + item[method].get("parameters", [])]


@pytest.fixture(scope="module")
def hubspot() -> dict[str, Any]:
    if not HUBSPOT_V4.is_file():
        pytest.skip(f"HubSpot's OpenAPI documents are not at {REFERENCE}")
    document: dict[str, Any] = json.loads(HUBSPOT_V4.read_text(encoding="utf-8"))
    return document


def test_the_document_is_valid_openapi_3_1() -> None:
    # GIVEN openapi.yaml
    # WHEN it is validated against the OpenAPI 3.1 schema (bundled with openapi-spec-validator)
    errors = [error.message for error in OpenAPIV31SpecValidator(DOCUMENT).iter_errors()]
    # THEN it is valid
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert errors == []


def test_it_describes_exactly_the_routes_of_the_template() -> None:
    # GIVEN the function's API events in template.yaml
    template = load_template(ROOT / "template.yaml")
    events = template["Resources"]["UnsubscribeAllFunction"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events if e["Type"] == "Api"}
    # WHEN openapi.yaml's operations are listed
    documented = {(method, path) for method, path, _ in operations()}
    # THEN they are the same routes
    assert documented == routes


def test_every_operation_but_the_links_own_is_signed_and_answers_every_error_it_can() -> None:
    # GIVEN the operations
    # WHEN their security and responses are read
    def expected(path: str) -> set[str]:
        return ONE_CLICK_LINKS_ERRORS if path == ONE_CLICK_LINK else EVERY_ROUTES_ERRORS

    missing = {
        f"{method} {path}": sorted(expected(path) - set(operation["responses"]))
        for method, path, operation in operations()
        if not set(operation["responses"]) >= expected(path)
    }
    # THEN every one needs SigV4 (the document's default), but the one-click link's own two, which
    # need nothing; and each documents every error status it can answer
    assert DOCUMENT["security"] == [{"sigv4": []}]
    unsigned = {
        (method, path): operation["security"]
        for method, path, operation in operations()
        if "security" in operation
    }
    assert unsigned == {("get", ONE_CLICK_LINK): [], ("post", ONE_CLICK_LINK): []}
    assert missing == {}


def test_idempotent_operations_document_the_key_conflict_and_replay() -> None:
    # GIVEN the operations that unsubscribe one address (the idempotent ones)
    single = [
        (method, path, operation)
        for method, path, operation in operations()
        if method == "post" and "batch" not in path and not path.startswith("/one-click")
    ]
    # WHEN their parameters and answers are read
    # THEN each takes Idempotency-Key, answers 409 and 422, and marks a replay with Idempotent-Replayed
    assert len(single) == 2
    for method, path, operation in single:
        assert "Idempotency-Key" in {p["name"] for p in parameters_of(path, method) if p["in"] == "header"}
        assert {"409", "422"} <= set(operation["responses"])
        assert "Idempotent-Replayed" in resolved(operation["responses"]["200"])["headers"]


def test_sigv4_is_described_as_api_gateway_describes_aws_iam() -> None:
    # GIVEN the security scheme
    scheme = DOCUMENT["components"]["securitySchemes"]["sigv4"]
    # WHEN it is read
    # THEN it is API Gateway's awsSigv4 in the Authorization header
    assert {key: scheme[key] for key in ("type", "name", "in", "x-amazon-apigateway-authtype")} == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }


def test_the_request_body_is_the_queue_messages_request() -> None:
    # GIVEN the POST /unsubscribe-all body schema and the message schema's request
    # WHEN they are compared
    # THEN they are the same object, so a producer writes one shape for both
    assert DOCUMENT["components"]["schemas"]["UnsubscribeRequest"] == message_schema()["$defs"]["request"]


def test_every_example_is_valid_against_its_schema() -> None:
    # GIVEN the request bodies' and parameters' examples
    examples = []
    for method, path, operation in operations():
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body and "example" in body:
            pointer = (
                "/paths/"
                + path.replace("/", "~1")
                + f"/{method}/requestBody/content/application~1json/schema"
            )
            examples.append((pointer, body["example"]))
    for name, parameter in DOCUMENT["components"]["parameters"].items():
        if "example" in parameter:
            examples.append((f"/components/parameters/{name}/schema", parameter["example"]))
    # WHEN each is validated
    invalid = [
        (pointer, error.message)
        for pointer, example in examples
        for error in openapi_validator(DOCUMENT, pointer).iter_errors(example)
    ]
    # THEN each is valid
    assert len(examples) >= 5
    assert invalid == []


@pytest.mark.parametrize("name", HUBSPOT_SCHEMAS)
def test_hubspots_schemas_are_copied_unchanged(hubspot: dict[str, Any], name: str) -> None:
    # GIVEN a schema openapi.yaml takes from HubSpot, and HubSpot's v4 document
    # WHEN the two are compared
    # THEN they are equal
    assert DOCUMENT["components"]["schemas"][name] == hubspot["components"]["schemas"][name]


def test_every_schema_named_as_hubspots_is_hubspots(hubspot: dict[str, Any]) -> None:
    # GIVEN the schema names of both documents
    # WHEN the shared ones are listed
    shared = set(DOCUMENT["components"]["schemas"]) & set(hubspot["components"]["schemas"])
    # THEN they are the copied ones, no other
    assert shared == set(HUBSPOT_SCHEMAS)


def facade_operations() -> list[tuple[str, str]]:
    return [(method, path) for method, path, _ in operations() if path.startswith(HUBSPOT_PREFIX)]


@pytest.mark.parametrize(("method", "path"), facade_operations())
def test_the_facade_takes_and_answers_what_hubspot_documents(
    hubspot: dict[str, Any], method: str, path: str
) -> None:
    # GIVEN a facade operation and HubSpot's operation on the same path
    official = hubspot["paths"][path.replace("{version}", "v4")][method]
    ours = DOCUMENT["paths"][path][method]
    # WHEN their query and path parameters, body and success answers are compared
    official_parameters = {(p["name"], p["in"], p.get("required", False)) for p in official["parameters"]}
    our_parameters = {
        (p["name"], p["in"], p.get("required", False))
        for p in parameters_of(path, method)
        if p["in"] != "header" and p["name"] != "version"
    }
    official_success = {
        code: official["responses"][code] for code in official["responses"] if code.startswith("2")
    }
    our_success = {
        code: resolved(ours["responses"][code]) for code in ours["responses"] if code.startswith("2")
    }
    # THEN they are HubSpot's: the same parameters, the same body schema, only a 200 with its schema
    assert our_parameters == official_parameters
    assert set(our_success) == set(official_success) == {"200"}
    assert (
        our_success["200"]["content"]["application/json"]["schema"]
        == official_success["200"]["content"]["application/json"]["schema"]
    )
    if "requestBody" in official:
        official_body = official["requestBody"]["content"]["application/json"]["schema"]
        our_body = ours["requestBody"]["content"]["application/json"]["schema"]
        assert official_body in our_body.get("allOf", [our_body])


def without_prose(node: Any) -> Any:
    """A schema without its descriptions and examples (HubSpot rewords them between versions)."""
    if isinstance(node, dict):
        return {
            key: without_prose(value) for key, value in node.items() if key not in {"description", "example"}
        }
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    return node


@pytest.mark.parametrize("version", PUBLISHED_VERSIONS)
def test_with_its_differences_openapi_yaml_holds_each_versions_schemas(version: str) -> None:
    # GIVEN HubSpot's document for a published version, and openapi.yaml with that version's
    # differences from v4 applied (the answer check validates facade answers with these)
    path = REFERENCE / f"hubspot-communication-preferences-{version}.openapi.json"
    if not path.is_file():
        pytest.skip(f"HubSpot's OpenAPI documents are not at {REFERENCE}")
    official = json.loads(path.read_text(encoding="utf-8"))["components"]["schemas"]
    ours = with_differences(DOCUMENT, version)["components"]["schemas"]
    # WHEN the schemas the facade answers with are compared, prose aside
    differing = [
        name for name in HUBSPOT_SCHEMAS if without_prose(ours[name]) != without_prose(official[name])
    ]
    # THEN they are the same: 2026-09's int32 subscriptionId is the only difference there is
    assert differing == []
    assert set(VERSION_DIFFERENCES) <= set(PUBLISHED_VERSIONS)
