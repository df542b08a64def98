"""The pre-commit hooks run exactly what `make lint` runs, with the venv's tools, offline."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [repository] = config["repos"]
    assert repository["repo"] == "local", "a hook repository would be downloaded"
    found: list[dict[str, Any]] = repository["hooks"]
    return found


def make_lint_commands() -> list[list[str]]:
    """`make lint`'s commands as make expands them, without running them or building the venv."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry_run = subprocess.run(
        ["make", "--silent", "--no-print-directory", "--dry-run", "--old-file=.venv/.installed", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [shlex.split(line) for line in dry_run.stdout.splitlines() if line.strip()]


def test_the_hooks_run_the_commands_of_make_lint_in_its_order(hooks: list[dict[str, Any]]) -> None:
    # GIVEN make lint's commands and the hooks
    expected = make_lint_commands()
    # WHEN each hook's command line is put together
    commands = [shlex.split(hook["entry"]) + list(hook.get("args", [])) for hook in hooks]
    # THEN they are the same commands, in the same order
    assert len(expected) == 3
    assert commands == expected


def test_the_hooks_use_the_venvs_tools_on_the_whole_tree(hooks: list[dict[str, Any]]) -> None:
    # GIVEN the hooks
    # WHEN how they run is read
    settings = {(hook["language"], hook["pass_filenames"]) for hook in hooks}
    # THEN each runs a tool already installed (no environment built by pre-commit), with no file
    # names appended, so it checks what make lint checks
    assert settings == {("system", False)}
    assert all(hook["entry"].startswith(".venv/bin/") for hook in hooks)
