"""`python -m local.hubspot_sandbox --port 0 --token TOKEN`: run the sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Sequence

from local.hubspot_sandbox.auth import ALL_SCOPES
from local.hubspot_sandbox.config import SandboxConfig
from local.hubspot_sandbox.faults import FaultKind
from local.hubspot_sandbox.quirks import Quirk
from local.hubspot_sandbox.sandbox import HubSpotSandbox

TOKEN_ENVIRONMENT_VARIABLE = "HUBSPOT_SANDBOX_TOKEN"  # noqa: S105 - a variable name, not a token


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    tokens = dict(args.extra_token)
    if args.token:
        tokens[args.token] = ALL_SCOPES
    if not tokens:
        parser.error(f"give --token (or set {TOKEN_ENVIRONMENT_VARIABLE}) or --extra-token")
    try:
        config = SandboxConfig(
            host=args.host,
            port=args.port,
            tokens=tokens,
            rate_limit=args.rate_limit,
            rate_window_ms=args.rate_window_ms,
            daily_limit=args.daily_limit,
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            fault_rates=dict(args.fault),
            fault_retry_after_s=args.fault_retry_after_s,
            timeout_hang_s=args.timeout_hang_s,
            slow_delay_s=args.slow_delay_s,
            batch_max_inputs=args.batch_max_inputs,
            invalid_subscribers=args.invalid_subscribers,
            quirks=args.quirk,
            seed=args.seed,
            log_requests=args.verbose,
        )
    except ValueError as error:
        parser.error(str(error))

    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda _signal, _frame: stop_requested.set())
    with HubSpotSandbox(config) as sandbox:
        print(f"HubSpot sandbox listening on {sandbox.base_url}", flush=True)
        stop_requested.wait()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.hubspot_sandbox",
        description="A local HubSpot Communication Preferences API for the unsubscribe-all operations.",
    )
    defaults = SandboxConfig()
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port, help="0 picks a free port (default)")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENVIRONMENT_VARIABLE),
        help=f"a bearer token granted every scope (default: ${TOKEN_ENVIRONMENT_VARIABLE})",
    )
    parser.add_argument(
        "--extra-token",
        action="append",
        type=_token_with_scopes,
        default=[],
        metavar="TOKEN=SCOPE,SCOPE",
        help="another token with only these scopes (repeatable; TOKEN= grants none)",
    )
    parser.add_argument("--rate-limit", type=int, default=defaults.rate_limit, help="calls per window")
    parser.add_argument("--rate-window-ms", type=int, default=defaults.rate_window_ms)
    parser.add_argument("--daily-limit", type=int, default=defaults.daily_limit)
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument(
        "--jitter-ms", type=float, default=defaults.jitter_ms, help="uniform, added to latency"
    )
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault_rate,
        default=[],
        metavar="KIND=RATE",
        help=f"inject a fault in RATE of calls (repeatable); KIND is one of {', '.join(FaultKind)}",
    )
    parser.add_argument("--fault-retry-after-s", type=int, default=defaults.fault_retry_after_s)
    parser.add_argument("--timeout-hang-s", type=float, default=defaults.timeout_hang_s)
    parser.add_argument("--slow-delay-s", type=float, default=defaults.slow_delay_s)
    parser.add_argument("--batch-max-inputs", type=int, default=defaults.batch_max_inputs)
    parser.add_argument("--invalid-subscribers", metavar="REGEX", help="addresses to reject as malformed")
    parser.add_argument(
        "--quirk",
        action="append",
        type=Quirk,
        choices=list(Quirk),
        default=[],
        metavar="NAME",
        help=f"switch on an undocumented behaviour (repeatable); NAME is one of {', '.join(Quirk)}",
    )
    parser.add_argument("--seed", type=int, help="replay the same faults and jitter")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def _token_with_scopes(text: str) -> tuple[str, frozenset[str]]:
    token, separator, scopes = text.partition("=")
    if not separator or not token:
        raise argparse.ArgumentTypeError("expected TOKEN=scope1,scope2")
    return token, frozenset(scope.strip() for scope in scopes.split(",") if scope.strip())


def _fault_rate(text: str) -> tuple[FaultKind, float]:
    kind, separator, rate = text.partition("=")
    try:
        return FaultKind(kind), float(rate if separator else "")
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected KIND=RATE such as 500=0.05, not {text!r}") from error


if __name__ == "__main__":
    raise SystemExit(main())
