"""The function's logs under Lambda's JSON log format (template.yaml's LoggingConfig).

With `LogFormat: JSON`, Lambda sets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL (the
application log level) in the function's environment, and Powertools obeys that level before its
own. Each case starts a fresh interpreter with the environment Lambda would give for one value of
PowertoolsLogLevel, as the template maps it, and reads what the function's logger writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.aws.cfn_template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
LEVELS = TEMPLATE["Parameters"]["PowertoolsLogLevel"]["AllowedValues"]
LINES = ("DEBUG", "INFO", "WARNING", "ERROR")
# Warnings are errors: Powertools warns when Lambda's level and its own disagree.
LOG_EACH_LEVEL = """
import warnings
warnings.simplefilter("error")
from optout.observability import logger
logger.debug("at debug", subscriber="jane@example.com")
logger.info("at info", subscriber="jane@example.com")
logger.warning("at warning", subscriber="jane@example.com")
logger.error("at error", subscriber="jane@example.com")
"""


def lambda_environment(powertools_level: str) -> dict[str, str]:
    """What Lambda sets for the function, as far as logging goes, with PowertoolsLogLevel=level."""
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    static = {name: value for name, value in variables.items() if isinstance(value, str)}
    application_level = TEMPLATE["Mappings"]["LambdaLogLevels"][powertools_level]["Application"]
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "functions" / "unsubscribe_all"),
        **static,
        "POWERTOOLS_LOG_LEVEL": powertools_level,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": application_level,
    }


@pytest.mark.parametrize("level", LEVELS)
def test_each_log_line_is_one_json_object_at_the_level_the_parameter_sets(level: str) -> None:
    # GIVEN the function's logger in an environment as Lambda sets it with LogFormat JSON
    # WHEN it logs at each level
    run = subprocess.run(
        [sys.executable, "-c", LOG_EACH_LEVEL],
        env=lambda_environment(level),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # THEN no warning: Lambda's level and PowertoolsLogLevel agree
    assert run.returncode == 0, run.stderr[-2000:]
    # AND every line is one JSON object, only the levels from the parameter's up, addresses masked
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(isinstance(record, dict) for record in records)
    expected = [name for name in LINES if LINES.index(name) >= LINES.index(level)] if level in LINES else []
    assert [record["level"] for record in records] == expected
    assert all(record["subscriber"] == "j***@example.com" for record in records)
    assert "jane@example.com" not in run.stdout
