"""`pip install .` gives a working `unsubscribe-all` and nothing else on the import path.

Offline: the wheel is built with the setuptools of the running venv, and the fresh venv it goes
into finds its dependencies in a folder holding exactly the closure of what the wheel declares
(linked from the running venv), so pip resolves them as installed and nothing is downloaded. A
dependency the CLI imports but the wheel does not declare is then missing, as it would be for a
user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.message import Message
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# What the checkout holds besides the project: venvs, build output, caches, run state.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", ".aws-sam", ".run", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)
SHIPPED_PACKAGES = {"operator_cli", "optout"}
DECLARED_DEPENDENCIES = {"boto3", "botocore", "urllib3"}

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**environment, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy of the checkout, so the build's own output never lands in it.
    source = tmp_path_factory.mktemp("source") / "project"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE, symlinks=True)
    wheels = tmp_path_factory.mktemp("wheels")
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", wheels, source, cwd=wheels,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    [path] = wheels.glob("hubspot_unsubscribe_all-*.whl")
    return path


def wheel_metadata(path: Path) -> Message:
    with zipfile.ZipFile(path) as archive:
        [name] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return HeaderParser().parsestr(archive.read(name).decode("utf-8"))


def dependency_closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions these requirements need, transitively (no extras)."""
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonical(requirement.name)
        if name in found:
            continue
        found[name] = metadata.distribution(name)
        pending += [Requirement(text) for text in found[name].requires or ()]
    return list(found.values())


def link_distributions(distributions: list[metadata.Distribution], folder: Path) -> None:
    """Links each distribution's top-level modules and its .dist-info into `folder`."""
    folder.mkdir()
    for distribution in distributions:
        top_level = {
            Path(str(file)).parts[0]
            for file in distribution.files or ()
            if not str(file).startswith("..") and Path(str(file)).parts[0] != "__pycache__"
        }
        for name in top_level:
            target = Path(str(distribution.locate_file(name)))
            if target.exists() and not (folder / name).exists():
                (folder / name).symlink_to(target)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its bin folder."""
    place = tmp_path_factory.mktemp("installed")
    created = run(sys.executable, "-m", "venv", place / "venv", cwd=place)
    assert created.returncode == 0, created.stderr
    python = place / "venv" / "bin" / "python"
    requirements = wheel_metadata(wheel).get_all("Requires-Dist") or []
    link_distributions(dependency_closure(requirements), place / "dependencies")
    site_packages = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=place)
    Path(site_packages.stdout.strip(), "dependencies.pth").write_text(f"{place / 'dependencies'}\n")
    # Not --no-deps: pip must find every declared dependency already installed.
    pip = run(python, "-m", "pip", "install", "--no-index", wheel, cwd=place)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return python.parent


def test_the_wheel_ships_only_the_cli_and_the_function_package(wheel: Path) -> None:
    # GIVEN the wheel `pip install .` builds
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    # WHEN its top-level entries are listed
    top_level = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    # THEN they are the CLI and the package it imports: no local, bench or tests
    assert top_level == SHIPPED_PACKAGES


def test_the_wheel_declares_the_clis_dependencies(wheel: Path) -> None:
    # GIVEN the wheel's metadata
    requirements = wheel_metadata(wheel).get_all("Requires-Dist") or []
    # WHEN its dependencies are read
    # THEN they are what the CLI imports besides the standard library
    assert {canonical(Requirement(text).name) for text in requirements} == DECLARED_DEPENDENCIES


def test_the_installed_cli_answers_its_version(installed: Path, tmp_path: Path) -> None:
    # GIVEN the CLI installed (not editable) in a fresh venv
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    # WHEN it is asked its version, away from the checkout
    answer = run(installed / "unsubscribe-all", "--version", cwd=tmp_path)
    # THEN it answers the project's version from the installed metadata
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == f"unsubscribe-all {version}"


def test_every_cli_module_imports_with_only_the_declared_dependencies(
    installed: Path, tmp_path: Path
) -> None:
    # GIVEN the installed CLI
    script = (
        "import importlib, pkgutil, operator_cli\n"
        "for module in pkgutil.walk_packages(operator_cli.__path__, 'operator_cli.'):\n"
        "    importlib.import_module(module.name)\n"
    )
    # WHEN each of its modules is imported
    answer = run(installed / "python", "-c", script, cwd=tmp_path)
    # THEN none needs anything the wheel does not declare
    assert answer.returncode == 0, answer.stderr


@pytest.mark.parametrize("package", ["local", "bench", "tests"])
def test_the_checkouts_own_packages_are_not_importable(installed: Path, tmp_path: Path, package: str) -> None:
    # GIVEN the installed CLI, away from the checkout
    # WHEN a package that only the checkout holds is imported
    answer = run(installed / "python", "-c", f"import {package}", cwd=tmp_path)
    # THEN it is not there
    assert answer.returncode != 0
    assert f"No module named '{package}'" in answer.stderr
