"""What each variant's fresh process may import: the deployment package, as Lambda would load it.

The function runs from `sam build`'s output when that matches the source (`make bench` builds it
first); otherwise, from the source tree with the main venv's packages, and says so. The naive
baseline has the same dependencies, so it runs beside the same package. The hubspot-sdk
baseline runs in its own venv, which `make bench` creates; without it, its figures are n/a.
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from bench.report import NotAvailable
from bench.stacks import BASELINES_DIR, NAIVE_HANDLER, SDK_HANDLER

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_SOURCE = ROOT / "functions" / "unsubscribe_all"
BUILD_DIR = ROOT / ".aws-sam" / "build" / "UnsubscribeAllFunction"
SDK_VENV = ROOT / ".venv-bench-sdk"
FUNCTION_HANDLER = "app.lambda_handler"


@dataclass(frozen=True)
class Package:
    """A handler, the interpreter that runs it and the only paths it may import from."""

    name: str
    python: Path
    paths: tuple[Path, ...]
    handler: str
    origin: str


@dataclass(frozen=True)
class Packages:
    function: Package
    naive: Package
    sdk: Package | NotAvailable
    build: Path | None  # sam build's output, when it matches the source


def _source_files(root: Path) -> list[Path]:
    return sorted(
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def build_matches_source() -> bool:
    if not BUILD_DIR.is_dir():
        return False
    names = [str(name) for name in _source_files(FUNCTION_SOURCE)]
    _, differing, missing = filecmp.cmpfiles(FUNCTION_SOURCE, BUILD_DIR, names, shallow=False)
    return not differing and not missing


def _site_packages(python: Path) -> Path:
    if python == Path(sys.executable):
        return Path(sysconfig.get_paths()["purelib"])
    answer = subprocess.run(  # noqa: S603 - a venv's interpreter, made by `make bench`
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(answer.stdout.strip())


def _sdk_package() -> Package | NotAvailable:
    python = SDK_VENV / "bin" / "python"
    if not python.exists():
        return NotAvailable("no .venv-bench-sdk: `make bench` installs hubspot-sdk there")
    site_packages = _site_packages(python)
    if not (site_packages / "hubspot_sdk").is_dir():
        return NotAvailable("hubspot-sdk did not install into .venv-bench-sdk")
    return Package(
        "hubspot-sdk", python, (BASELINES_DIR, site_packages), SDK_HANDLER, "its own venv, .venv-bench-sdk"
    )


def find_packages() -> Packages:
    python = Path(sys.executable)
    if build_matches_source():
        dependencies: tuple[Path, ...] = (BUILD_DIR,)
        function_paths = dependencies
        origin = "sam build output"
    else:
        dependencies = (_site_packages(python),)
        function_paths = (FUNCTION_SOURCE, *dependencies)
        origin = "source tree and .venv (sam build output missing or stale: run make build)"
    return Packages(
        function=Package("function", python, function_paths, FUNCTION_HANDLER, origin),
        naive=Package("naive", python, (BASELINES_DIR, *dependencies), NAIVE_HANDLER, origin),
        sdk=_sdk_package(),
        build=BUILD_DIR if origin == "sam build output" else None,
    )
