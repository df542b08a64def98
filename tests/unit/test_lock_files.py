"""The lock files hold what the requirements files pin, at the same versions, every line hashed.

`make lock` writes them; a requirements file edited without it would leave `make venv` and
`sam build` installing something else than what it names, which these tests catch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_REQUIREMENTS = ROOT / "functions" / "unsubscribe_all" / "requirements.txt"
FUNCTION_LOCK = ROOT / "functions" / "unsubscribe_all" / "requirements.lock"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
DEV_LOCK = ROOT / "requirements-dev.lock"

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file (comments, options and includes left out)."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match["name"])] = match["version"]
    return found


def lock_entries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """A lock's packages: each one's version and the hashes listed under it."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = []
            entries[canonical(match["name"])] = (match["version"], current)
        elif line.strip().startswith("--hash=sha256:"):
            current.append(line.strip().removesuffix("\\").strip())
    return entries


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [(FUNCTION_REQUIREMENTS, FUNCTION_LOCK), (DEV_REQUIREMENTS, DEV_LOCK)],
    ids=["function", "development"],
)
def test_every_pinned_requirement_is_locked_at_its_version(requirements: Path, lock: Path) -> None:
    # GIVEN a requirements file and the lock made from it
    wanted = pins(requirements)
    locked = {name: version for name, (version, _) in lock_entries(lock).items()}
    # WHEN each pin is looked up in the lock
    # THEN it is there, at the same version
    assert wanted, f"{requirements.name} pins nothing"
    assert {name: locked.get(name) for name in wanted} == wanted


def test_the_development_lock_holds_the_function_lock_at_the_same_versions() -> None:
    # GIVEN both locks
    function = lock_entries(FUNCTION_LOCK)
    development = lock_entries(DEV_LOCK)
    # WHEN the function's packages are looked up in the development lock
    # THEN the tests run the very versions sam build ships
    assert {name: development.get(name, ("missing", []))[0] for name in function} == {
        name: version for name, (version, _) in function.items()
    }


@pytest.mark.parametrize("lock", [FUNCTION_LOCK, DEV_LOCK], ids=["function", "development"])
def test_every_locked_package_has_a_hash(lock: Path) -> None:
    # GIVEN a lock file
    entries = lock_entries(lock)
    # WHEN its packages' hashes are counted
    unhashed = sorted(name for name, (_, hashes) in entries.items() if not hashes)
    # THEN each has at least one, so pip --require-hashes accepts it
    assert entries
    assert unhashed == []


def test_the_function_lock_holds_no_x_ray_sdk() -> None:
    # GIVEN the function's lock, what sam build installs
    locked = lock_entries(FUNCTION_LOCK)
    # WHEN the X-Ray SDK and what only it brought (wrapt) are looked for
    # THEN neither is there: Lambda's active tracing records the function's segments without them
    assert {"aws-xray-sdk", "wrapt"} & locked.keys() == set()
