"""`python -m local.soak`: the queue soak, then the API under load; exit 0 if nothing was lost,
duplicated, leaked or answered wrongly."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from local.runners.api_contract import CHECK_VARIABLE
from local.soak.api_load import report_lines as api_report_lines
from local.soak.api_load import run_api_load
from local.soak.queue_soak import run_queue_soak
from local.soak.report import report_lines

DEFAULT_MESSAGES = 5000
DEFAULT_REQUESTS = 5000
DRAIN_TIMEOUT_S = 900.0
# The function's logs and metrics and each message's receive count, for looking into a failure.
OUTPUT_DIR = Path(".run/soak")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.soak", description=__doc__)
    parser.add_argument(
        "--messages", type=int, default=DEFAULT_MESSAGES, help="queue messages (0: no queue soak)"
    )
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_REQUESTS, help="API requests (0: no API load)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seeds the mix of messages and requests")
    args = parser.parse_args(argv)
    # The API under load answers as openapi.yaml says, or the answer becomes a 500 the verdict counts.
    os.environ.setdefault(CHECK_VARIABLE, "1")
    ok = True
    if args.messages:
        terminal = sys.stdout  # the soak captures sys.stdout (the function's metrics) while it runs
        run = run_queue_soak(
            args.messages,
            args.seed,
            DRAIN_TIMEOUT_S,
            lambda line: print(line, file=terminal, flush=True),
            OUTPUT_DIR,
        )
        for line in report_lines(run):
            print(line, flush=True)
        ok = run.verdict.ok
    if args.requests:
        load = run_api_load(args.requests, args.seed, OUTPUT_DIR)
        for line in api_report_lines(load):
            print(line, flush=True)
        ok = ok and not load.problems
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
