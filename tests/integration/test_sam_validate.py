"""The offline linters accept template.yaml: sam validate --lint, cfn-lint, and checkov when installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.aws.cfn_template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
VENV_BIN = Path(sys.executable).parent  # the venv running the tests holds sam and cfn-lint
SAM = VENV_BIN / "sam"
CFN_LINT = VENV_BIN / "cfn-lint"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# cfn-lint 1.54 and later stop running the SAM translator and miss SAM mistakes.
CFN_LINT_VERSION = "1.53.3"


def offline_env() -> dict[str, str]:
    """The environment for the linters: no telemetry, a region, credentials that reach nothing."""
    return {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "BC_SKIP_MAPPING": "TRUE",  # checkov: do not fetch its vendor's check metadata
    }


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def require(binary: Path) -> None:
    if not binary.exists():
        pytest.skip(f"{binary} is not installed (make venv installs sam and cfn-lint)")


def test_sam_validate_lint_accepts_the_template() -> None:
    # GIVEN the SAM CLI of the venv, offline
    require(SAM)
    # WHEN it validates and lints the template
    result = run(SAM, "validate", "--lint", "--template-file", TEMPLATE, "--region", "us-east-1")
    # THEN it succeeds
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_cfn_lint_is_the_version_that_still_checks_sam() -> None:
    # GIVEN cfn-lint of the venv
    require(CFN_LINT)
    # WHEN its version is asked
    result = run(CFN_LINT, "--version")
    # THEN it is the pinned one that runs the SAM translator
    assert result.stdout.split() == ["cfn-lint", CFN_LINT_VERSION]


def test_cfn_lint_accepts_the_template() -> None:
    # GIVEN cfn-lint of the venv
    require(CFN_LINT)
    # WHEN it lints the template
    result = run(CFN_LINT, TEMPLATE)
    # THEN it finds nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_cfn_lint_rejects_a_broken_reference_in_a_copy(tmp_path: Path) -> None:
    # GIVEN a copy of the template whose function refers to a table that does not exist
    broken = TEMPLATE.read_text(encoding="utf-8").replace(
        "IDEMPOTENCY_TABLE_NAME: !Ref IdempotencyTable", "IDEMPOTENCY_TABLE_NAME: !Ref NoSuchTable"
    )
    assert "NoSuchTable" in broken
    copy = tmp_path / "template.yaml"
    copy.write_text(broken, encoding="utf-8")
    require(CFN_LINT)
    # WHEN cfn-lint lints the copy
    result = run(CFN_LINT, copy, cwd=tmp_path)
    # THEN it fails on the reference (so a clean run above means something)
    assert result.returncode != 0
    assert "NoSuchTable" in result.stdout


def test_checkov_passes_with_every_skip_used() -> None:
    # GIVEN checkov in its own venv (make checkov installs it) and the template's declared skips
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} is not installed; run `make checkov` once")
    resources = load_template(TEMPLATE)["Resources"]
    declared = sum(
        len(body.get("Metadata", {}).get("checkov", {}).get("skip", [])) for body in resources.values()
    )
    # WHEN it scans the template offline, as `make checkov` does
    result = run(
        CHECKOV,
        "--quiet",
        "--compact",
        "--skip-download",
        "--framework",
        "cloudformation",
        "--file",
        TEMPLATE,
    )
    # THEN nothing fails, and every declared skip matched a finding (no stale skip)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", result.stdout)
    assert counts is not None, result.stdout
    passed, failed, skipped = (int(n) for n in counts.groups())
    assert failed == 0
    assert passed > 0
    assert skipped == declared
