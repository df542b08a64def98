"""`python -m local.soak`: the queue soak; exit 0 if nothing was lost, duplicated or leaked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local.soak.queue_soak import run_queue_soak
from local.soak.report import report_lines

DEFAULT_MESSAGES = 5000
DRAIN_TIMEOUT_S = 900.0
# The function's logs and metrics and each message's receive count, for looking into a failure.
OUTPUT_DIR = Path(".run/soak")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.soak", description=__doc__)
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="queue messages")
    parser.add_argument("--seed", type=int, default=1, help="seeds the mix of messages")
    args = parser.parse_args(argv)
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
    return 0 if run.verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
