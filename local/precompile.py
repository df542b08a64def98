"""Compiles into a built Lambda package the bytecode of every module its cold start imports.

Lambda's /var/task is read-only, so a package without bytecode compiles every module it imports
at every cold start (about 0.6 s on this machine); compiling the whole package instead would add
4 MB of bytecode that is never loaded. A fresh interpreter confined to the package imports the
handler and does what a first invocation does before any network call (the boto3 clients, the
API resolver), and the modules it loaded from the package are compiled, with
unchecked-hash bytecode so that no source file is read to validate it. Run it with the Lambda
runtime's Python (python3.13): bytecode is specific to a Python minor version.

    python3.13 local/precompile.py .aws-sam/build/UnsubscribeAllFunction
"""

from __future__ import annotations

import json
import py_compile
import subprocess
import sys
from pathlib import Path

# What a cold start loads: the handler module, then what the first invocations build.
COLD_START = """
import json, os, sys
sys.path.insert(0, os.getcwd())
import app
import boto3
from optout.triggers.api import UnsubscribeApi
from optout.triggers.one_click import OneClickRoutes
session = boto3.session.Session(region_name="us-east-1")
for service in ("dynamodb", "secretsmanager", "sqs", "kms"):
    session.client(service, endpoint_url="http://127.0.0.1:9")
here = os.getcwd() + os.sep
files = {getattr(module, "__file__", None) or "" for module in list(sys.modules.values())}
print(json.dumps(sorted(f for f in files if f.startswith(here) and f.endswith(".py"))))
"""


def loaded_modules(package: Path) -> list[Path]:
    environment = {
        "PATH": "/usr/bin:/bin",
        # What Lambda sets and Powertools reads.
        "AWS_LAMBDA_FUNCTION_NAME": "precompile",
        "POWERTOOLS_SERVICE_NAME": "precompile",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    probe = subprocess.run(  # noqa: S603 - this interpreter, on the package being built
        [sys.executable, "-I", "-S", "-B", "-c", COLD_START],
        cwd=package,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return [Path(name) for name in json.loads(probe.stdout.strip().splitlines()[-1])]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python3.13 local/precompile.py BUILT_PACKAGE_DIR", file=sys.stderr)
        return 2
    package = Path(argv[0]).resolve()
    modules = loaded_modules(package)
    for module in modules:
        py_compile.compile(
            str(module), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
    print(f"precompiled the {len(modules)} modules a cold start imports, for Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
