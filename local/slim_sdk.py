"""Keeps botocore's data for the AWS services the function calls only, in a built Lambda package.

botocore ships the models of 400-odd services, most of the package, and every cold start pays for
what it reads of them: the first client lists every service's folder before loading its own
model (about 20 ms), and parses endpoints.json, 1.2 MB of every service's endpoints in every
partition (about 25 ms of a cold process). The other services' folders are dropped, and their
entries in endpoints.json, whose partitions, regions and defaults stay whole: the services kept
resolve exactly as before (tests/integration/test_sam_build.py compares every region).

    python3.13 local/slim_sdk.py .aws-sam/build/UnsubscribeAllFunction dynamodb secretsmanager sqs
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def slim(package: Path, services: set[str]) -> None:
    data = package / "botocore" / "data"
    for folder in data.iterdir():
        if folder.is_dir() and folder.name not in services:
            shutil.rmtree(folder)
    endpoints_file = data / "endpoints.json"
    endpoints = json.loads(endpoints_file.read_text(encoding="utf-8"))
    for partition in endpoints["partitions"]:
        partition["services"] = {
            name: service for name, service in partition["services"].items() if name in services
        }
    endpoints_file.write_text(json.dumps(endpoints, separators=(",", ":")), encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not Path(argv[0], "botocore", "data").is_dir():
        print("usage: python3.13 local/slim_sdk.py BUILT_PACKAGE_DIR SERVICE...", file=sys.stderr)
        return 2
    package, services = Path(argv[0]), set(argv[1:])
    slim(package, services)
    print(f"botocore keeps the data of {', '.join(sorted(services))} only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
