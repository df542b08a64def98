"""Plain `sam build`, as a SAM user runs it, makes the deployable package with its bytecode.

The template's `BuildMethod: makefile` hands the function's build to the Makefile, which installs
the locked dependencies for Lambda's arm64 platform and compiles the modules a cold start loads.
The build reads the package index, as `sam build` always does; it goes to a folder of its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM = Path(sys.executable).parent / "sam"
FUNCTION = "UnsubscribeAllFunction"
FUNCTION_SOURCE = ROOT / "functions" / "unsubscribe_all"
BYTECODE_TAG = "cpython-313"
UNCHECKED_HASH_FLAGS = 0b01  # PEP 552: hash-based, source not checked

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SAM.exists():
        pytest.skip("sam is not installed (make venv installs it)")
    search_path = os.pathsep.join([str(SAM.parent), os.environ.get("PATH", "")])
    if shutil.which("python3.13", path=search_path) is None:
        pytest.skip("python3.13, the Lambda runtime's Python, is not on PATH")
    place = tmp_path_factory.mktemp("sam-build")
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    # samconfig.toml's [default.build.parameters] apply, as for any `sam build`.
    built = subprocess.run(
        [str(SAM), "build", "--build-dir", str(place / "build"), "--cache-dir", str(place / "cache")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return place / "build" / FUNCTION


def function_modules() -> list[Path]:
    return sorted(
        path.relative_to(FUNCTION_SOURCE)
        for path in FUNCTION_SOURCE.rglob("*.py")
        if "__pycache__" not in path.parts
    )


def bytecode_of(package: Path, module: Path) -> Path:
    return package / module.parent / "__pycache__" / f"{module.stem}.{BYTECODE_TAG}.pyc"


def test_every_function_module_ships_with_its_python313_bytecode(package: Path) -> None:
    # GIVEN the package plain `sam build` made
    modules = function_modules()
    # WHEN each of the function's modules is looked for with its bytecode
    missing = [str(module) for module in modules if not bytecode_of(package, module).is_file()]
    # THEN each is there, compiled for python3.13, the runtime's Python
    assert modules
    assert (package / "app.py").is_file()
    assert missing == []


def test_the_bytecode_is_used_without_reading_the_source_first(package: Path) -> None:
    # GIVEN the bytecode of the handler and of the function's package
    files = [bytecode_of(package, module) for module in function_modules()]
    # WHEN their headers are read
    headers = [path.read_bytes()[:8] for path in files]
    # THEN each is for python3.13 and hash-based, unchecked: a cold start never reads the source
    assert {header[4:8] for header in headers} == {UNCHECKED_HASH_FLAGS.to_bytes(4, "little")}
    if sys.version_info[:2] == (3, 13):
        assert {header[:4] for header in headers} == {importlib.util.MAGIC_NUMBER}


def test_the_dependencies_a_cold_start_imports_are_compiled_too(package: Path) -> None:
    # GIVEN the package's dependencies
    # WHEN the bytecode of modules every cold start imports is looked for
    expected = [
        package / "boto3" / "__pycache__" / f"session.{BYTECODE_TAG}.pyc",
        package / "botocore" / "__pycache__" / f"client.{BYTECODE_TAG}.pyc",
        package / "aws_lambda_powertools" / "logging" / "__pycache__" / f"logger.{BYTECODE_TAG}.pyc",
        package / "urllib3" / "__pycache__" / f"connectionpool.{BYTECODE_TAG}.pyc",
    ]
    # THEN it is there
    assert [path for path in expected if not path.is_file()] == []


def test_compiled_dependencies_are_lambdas_arm64_builds(package: Path) -> None:
    # GIVEN the wheels installed into the package, and its native extensions (none today)
    wheel_tags = {
        path.parent.name: [
            line.split(":", 1)[1].strip() for line in path.read_text().splitlines() if line.startswith("Tag:")
        ]
        for path in package.glob("*.dist-info/WHEEL")
    }
    extensions = sorted(path.name for path in package.rglob("*.so"))
    # WHEN their platforms are read from their tags and names
    foreign = {
        name: tags
        for name, tags in wheel_tags.items()
        if not all(tag.endswith(("-none-any", "aarch64")) for tag in tags)
    }
    # THEN each is pure Python or for python3.13 on aarch64 Linux, whatever machine built the package
    assert wheel_tags
    assert foreign == {}
    assert all(name.endswith(f".{BYTECODE_TAG}-aarch64-linux-gnu.so") for name in extensions), extensions


def test_the_package_holds_no_x_ray_sdk(package: Path) -> None:
    # GIVEN the package plain `sam build` made
    # WHEN the X-Ray SDK and what only it brought (wrapt) are looked for
    found = sorted(path.name for pattern in ("aws_xray_sdk*", "wrapt*") for path in package.glob(pattern))
    # THEN neither is there: Lambda's active tracing needs no SDK in the package
    assert found == []


EVERY_CLIENT = """
import inspect, json, sys
sys.path.insert(0, sys.argv[1])
from optout.aws.clients import AwsClients
clients = AwsClients()
built = {}
for name, method in inspect.getmembers(clients, inspect.ismethod):
    if str(inspect.signature(method).return_annotation).endswith("Client"):
        built[name] = method().meta.service_model.service_name
print(json.dumps(built))
"""


def test_every_client_of_the_function_builds_from_the_package_s_own_sdk_data(package: Path) -> None:
    # GIVEN the package, whose botocore keeps the data of the function's own services only
    kept = sorted(path.name for path in (package / "botocore" / "data").iterdir() if path.is_dir())
    # WHEN every client AwsClients offers is built by an interpreter confined to the package
    built = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", EVERY_CLIENT, str(package)],
        env={
            "PATH": os.environ.get("PATH", ""),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN each builds, and the package keeps exactly the data those clients need
    assert built.returncode == 0, built.stderr[-2000:]
    services = json.loads(built.stdout)
    assert services
    assert sorted(set(services.values())) == kept


ENDPOINTS = """
import json, sys
import botocore.session
session = botocore.session.get_session()
resolved = {}
for service, region in json.loads(sys.argv[1]):
    meta = session.create_client(service, region, aws_access_key_id="x", aws_secret_access_key="x").meta
    resolved[f"{service} {region}"] = [meta.endpoint_url, meta.region_name, meta.partition]
print(json.dumps(resolved))
"""


def test_the_slimmed_sdk_resolves_every_region_of_the_function_s_services_as_the_whole_one(
    package: Path,
) -> None:
    # GIVEN every region of every partition the whole botocore knows, for each service kept
    import botocore.session  # noqa: PLC0415 - the development venv's, the very version the package holds

    session = botocore.session.get_session()
    kept = sorted(path.name for path in (package / "botocore" / "data").iterdir() if path.is_dir())
    targets = [
        (service, region)
        for service in kept
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition_name=partition)
    ]
    # WHEN the package's botocore and the whole one resolve each
    runs = {
        name: subprocess.run(
            [sys.executable, *flags, "-c", ENDPOINTS, json.dumps(targets)],
            env={"PATH": os.environ.get("PATH", ""), **({"PYTHONPATH": str(package)} if flags else {})},
            capture_output=True,
            text=True,
            check=False,
        )
        for name, flags in (("package", ["-S"]), ("whole", []))
    }
    # THEN they agree on every one: endpoint, region and partition
    assert all(run.returncode == 0 for run in runs.values()), {n: r.stderr[-1500:] for n, r in runs.items()}
    package_view, whole_view = (json.loads(runs[name].stdout) for name in ("package", "whole"))
    assert len(targets) > 50
    assert package_view == whole_view


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_package_holds_exactly_the_locked_versions(package: Path) -> None:
    # GIVEN the function's lock and the package
    lock = (FUNCTION_SOURCE / "requirements.lock").read_text(encoding="utf-8")
    locked = {
        canonical(name) + "==" + version for name, version in re.findall(r"^([\w.-]+)==(\S+)", lock, re.M)
    }
    # WHEN the package's installed distributions are listed
    installed = set()
    for path in package.glob("*.dist-info"):
        name, version = path.name.removesuffix(".dist-info").rsplit("-", 1)
        installed.add(f"{canonical(name)}=={version}")
    # THEN they are the lock's, at its versions
    assert installed == locked
