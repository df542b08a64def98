"""`make run`: the local stack, the demo through its queue, then the API and the queue until Ctrl-C.

    python -m local.run [--once] [--api-port 3000] [--run-dir .run]

`--once` exits after the demo: 0 if every demo message reached its expected outcome, 1 if not.
The function's output (JSON logs and EMF metrics, what Lambda sends to CloudWatch) goes to
`<run dir>/function.log`, so the terminal keeps the summary. With HUBSPOT_TOKEN set the function
talks to that HubSpot account, and there is no demo (it needs the sandbox, and would change real data).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from local.demo.walkthrough import report_lines, run_demo
from local.runners.api_gateway import DEFAULT_PORT
from local.stack import LocalStack, StackOptions
from local.stack_state import DEFAULT_RUN_DIR

FUNCTION_LOG = "function.log"
EXIT_USAGE = 2
ROOT = Path(__file__).resolve().parent.parent
# The published contracts, for code written against the API and the queue.
OPENAPI = ROOT / "openapi.yaml"
MESSAGE_SCHEMA = ROOT / "schemas" / "message.schema.json"


def main(argv: Sequence[str] | None = None) -> int:
    # Powertools warns on every invocation that adds no metric (a status read, say): noise here.
    warnings.filterwarnings("ignore", "No application metrics to publish")
    args = _arguments(argv)
    console = sys.stdout
    # SIGTERM stops the stack as Ctrl-C does (KeyboardInterrupt unwinds every `with`).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    options = StackOptions.from_environment(os.environ, api_port=args.api_port, run_dir=args.run_dir)
    if args.once and options.hubspot_token is not None:
        print("--once runs the demo, which needs the HubSpot sandbox: unset HUBSPOT_TOKEN", file=sys.stderr)
        return EXIT_USAGE
    args.run_dir.mkdir(parents=True, exist_ok=True)
    log_path = args.run_dir / FUNCTION_LOG
    try:
        with log_path.open("w", encoding="utf-8") as function_log, contextlib.redirect_stdout(function_log):
            return _run(LocalStack(options), once=args.once, console=console, log_path=log_path)
    except KeyboardInterrupt:
        _say(console, "Stopped.")
        return 0
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"port {args.api_port} is in use (another `make run`?): pass --api-port", file=sys.stderr)
        return EXIT_USAGE


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--once", action="store_true", help="exit after the demo (status: as expected or not)"
    )
    parser.add_argument("--api-port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="where local-stack.json and function.log go"
    )
    return parser.parse_args(argv)


def _run(stack: LocalStack, *, once: bool, console: TextIO, log_path: Path) -> int:
    started = time.monotonic()
    with stack:
        _say(console, f"Local stack up in {time.monotonic() - started:.1f} s")
        _say(console, f"  API (REST, as API Gateway)  {stack.api.url}")
        _say(console, f"  AWS (moto)                  {stack.moto.url}")
        _say(console, f"  HubSpot                     {stack.hubspot_base_url}")
        _say(console, f"  state for the CLI           {_shown(stack.options.state_file)}")
        _say(console, f"  function logs               {_shown(log_path)}")
        _say(console, f"  API contract (OpenAPI 3.1)  {_shown(OPENAPI)}")
        _say(console, f"  queue message (JSON Schema) {_shown(MESSAGE_SCHEMA)}")
        if stack.sandbox is None:
            _say(console, "HUBSPOT_TOKEN is set: the function changes REAL HubSpot data. No demo.")
        else:
            report = run_demo(stack, lambda line: _say(console, line))
            for line in report_lines(report):
                _say(console, line)
            if once:
                return 0 if report.ok else 1
        _say(console, "Try it:")
        _say(
            console,
            f"  curl -s -X POST {stack.api.url}/unsubscribe-all -H 'Content-Type: application/json' "
            """-d '{"subscriberIdString":"you@example.com"}'""",
        )
        _say(console, f"  curl -s {stack.api.url}/unsubscribe-all/you%40example.com")
        _say(console, "  .venv/bin/unsubscribe-all enqueue FILE")
        _say(console, "  .venv/bin/unsubscribe-all status EMAIL")
        _say(
            console, "  .venv/bin/unsubscribe-all link EMAIL      (a one-click link: open the URL it prints)"
        )
        _say(console, "Serving the API and the queue; Ctrl-C to stop.")
        threading.Event().wait()
    return 0


def _say(console: TextIO, line: str) -> None:
    print(line, file=console, flush=True)


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
