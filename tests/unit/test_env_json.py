"""events/env.json gives `sam local invoke --env-vars` every variable the template gives the function.

`sam local` resolves a `!Ref` to a resource as its logical id (not a table name or a queue URL),
and it passes only variables the template declares, so the file must name exactly those; its
values must pass the function's own settings check, and follow the template wherever the
template fixes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.aws.cfn_template import load_template
from local.aws.resources import TemplateReader
from optout.settings import Settings
from tests.events import ENV_VARS_FILE

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "UnsubscribeAllFunction"
# Where env.json departs from the template's default on purpose: HubSpot is the sandbox on the
# loopback (`python -m local.hubspot_sandbox --port 8080`), never the real one by accident.
LOCAL_OVERRIDES = {"HUBSPOT_BASE_URL": "http://127.0.0.1:8080"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def template_variables(template: dict[str, Any]) -> dict[str, Any]:
    """The function's environment as SAM deploys it with the parameters' defaults: Globals first,
    the function's own over them, without those a condition leaves out (the OpenTelemetry ones)."""
    globals_ = template["Globals"]["Function"]["Environment"]["Variables"]
    own = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    reader = TemplateReader(template)
    return {
        name: value
        for name, value in {**globals_, **own}.items()
        if not (isinstance(value, dict) and "Fn::If" in value and reader.value(value) is None)
    }


@pytest.fixture(scope="module")
def env_vars() -> dict[str, str]:
    document = json.loads(ENV_VARS_FILE.read_text(encoding="utf-8"))
    assert set(document) == {FUNCTION}, "env.json is keyed by the function's logical id"
    variables: dict[str, str] = document[FUNCTION]
    return variables


def test_env_json_names_exactly_the_variables_the_template_gives_the_function(
    template_variables: dict[str, Any], env_vars: dict[str, str]
) -> None:
    # GIVEN the template's function environment and events/env.json
    # WHEN their names are compared
    # THEN they are the same: none missing, none that sam local would ignore
    assert sorted(env_vars) == sorted(template_variables)


def test_every_value_is_a_string(env_vars: dict[str, str]) -> None:
    # GIVEN env.json's values
    # WHEN their types are read
    # THEN each is a string, as Lambda's environment holds them
    assert [name for name, value in env_vars.items() if not isinstance(value, str)] == []


def test_values_follow_the_template_where_it_fixes_them(
    template: dict[str, Any], template_variables: dict[str, Any], env_vars: dict[str, str]
) -> None:
    # GIVEN the template's values: literals, or references to parameters (their defaults)
    parameters = template["Parameters"]
    expected = {}
    for name, value in template_variables.items():
        if isinstance(value, dict) and value.get("Ref") in parameters:
            expected[name] = str(parameters[value["Ref"]]["Default"])
        elif not isinstance(value, dict):
            expected[name] = str(value)
    expected |= LOCAL_OVERRIDES
    # WHEN env.json's values for the same variables are read
    # THEN they are the template's, but for the documented local overrides
    assert {name: env_vars[name] for name in expected} == expected


def test_the_function_accepts_the_environment(env_vars: dict[str, str]) -> None:
    # GIVEN env.json's values, resources named as CloudFormation names them
    # WHEN the function reads its settings from them
    settings = Settings.from_environment(env_vars)
    # THEN they are valid: the queue URLs, the table, the secret and the loopback HubSpot
    assert settings.dead_letter_queue_url == env_vars["DEAD_LETTER_QUEUE_URL"]
    assert settings.source_queue_url == env_vars["SOURCE_QUEUE_URL"]
    assert settings.idempotency_table_name == env_vars["IDEMPOTENCY_TABLE_NAME"]
    assert settings.hubspot.base_url == LOCAL_OVERRIDES["HUBSPOT_BASE_URL"]
