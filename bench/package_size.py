"""Deployment package size: `sam build`'s output without boto3/botocore, bytecode included.

Sizes are the files' own sizes, unzipped, as Lambda's 250 MB limit counts them. The function's
package holds the bytecode a cold start imports (`local/precompile.py`); the hubspot-sdk
baseline's package would be the same dependencies plus the SDK and its own, as installed in its
venv without pip's bytecode of every module.
"""

from __future__ import annotations

from pathlib import Path

from bench.context import Bench
from bench.report import Figure, Measured, NotAvailable

GOAL_MB = 10
RUNTIME_PROVIDED = ("boto3", "botocore")
# A venv's own tooling, not part of any deployment package.
VENV_TOOLING = ("pip", "setuptools", "_distutils_hack", "distutils-precedence.pth")
MEGABYTE = 1024 * 1024


def package_bytes(root: Path, left_out: tuple[str, ...], *, bytecode: bool) -> int:
    return sum(
        path.stat().st_size
        for path in root.rglob("*")
        if path.is_file()
        and (bytecode or "__pycache__" not in path.parts)
        and not path.relative_to(root).parts[0].startswith(left_out)
    )


def _megabytes(root: Path, left_out: tuple[str, ...], *, bytecode: bool) -> Measured:
    megabytes = package_bytes(root, left_out, bytecode=bytecode) / MEGABYTE
    return Measured(megabytes, f"{megabytes:.1f} MB")


def measure(bench: Bench) -> list[Figure]:
    build = bench.packages.build
    sdk_package = bench.packages.sdk
    sdk = (
        sdk_package
        if isinstance(sdk_package, NotAvailable)
        else _megabytes(sdk_package.paths[-1], RUNTIME_PROVIDED + VENV_TOOLING, bytecode=False)
    )
    if build is None:
        reason = "no sam build output matching the source: run make build"
        return [
            Figure(
                "package_size",
                "deployment package, unzipped, without boto3/botocore",
                NotAvailable(reason),
                f"≤ {GOAL_MB} MB",
                None,
                {"hubspot-sdk": sdk},
            )
        ]
    function = _megabytes(build, RUNTIME_PROVIDED, bytecode=True)
    return [
        Figure(
            key="package_size",
            title="deployment package, unzipped, without boto3/botocore",
            function=function,
            goal=f"≤ {GOAL_MB} MB",
            met=function.value <= GOAL_MB,
            baselines={"hubspot-sdk": sdk},
            details={"build": str(build.relative_to(build.parents[2])), "excluded": list(RUNTIME_PROVIDED)},
        )
    ]
