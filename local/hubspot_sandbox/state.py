"""Everything that changes while the sandbox runs, behind one lock."""

from __future__ import annotations

import random
import secrets
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from local.hubspot_sandbox.auth import TokenRegistry
from local.hubspot_sandbox.calls import CallLog
from local.hubspot_sandbox.clock import iso_utc
from local.hubspot_sandbox.config import SandboxConfig, config_as_json
from local.hubspot_sandbox.faults import FaultInjector
from local.hubspot_sandbox.opt_outs import Account, OptOutStore, WriteAttempts
from local.hubspot_sandbox.rate_limit import RateLimiter, Rejection


class SandboxState:
    """Hold `lock` around every use of the attributes; the methods assume it is held."""

    def __init__(self, config: SandboxConfig) -> None:
        self.lock = threading.Lock()
        self.initial_config = config
        self.initial_seed = config.seed if config.seed is not None else secrets.randbelow(2**32)
        self.reset()

    def reset(self) -> None:
        """Back to how it started: settings, seed, tokens, limits, faults, opt-outs and call log."""
        config = self.initial_config
        self.config = config
        self.seed = self.initial_seed
        self.tokens = TokenRegistry(config.tokens)
        self.limiter = RateLimiter(config.rate_limit, config.rate_window_ms, config.daily_limit)
        self.faults = FaultInjector(config.fault_rates, self.seed)
        self.jitter = random.Random(self.seed + 1)  # noqa: S311 - reproducible latency, not cryptography
        self.opt_outs = OptOutStore()
        self.account = Account(self.opt_outs, WriteAttempts())
        self.calls = CallLog()

    def apply_config(self, config: SandboxConfig, *, reseed: bool = False) -> None:
        """Use new settings; `reseed` restarts the fault and jitter sequences from `config.seed`."""
        if reseed and config.seed is not None:
            self.seed = config.seed
            self.faults.reseed(config.seed)
            self.jitter.seed(config.seed + 1)
        self.config = config
        self.limiter.reconfigure(config.rate_limit, config.rate_window_ms, config.daily_limit)
        self.faults.set_rates(config.fault_rates)

    def next_latency_s(self) -> float:
        config = self.config
        jitter_ms = self.jitter.uniform(0, config.jitter_ms) if config.jitter_ms else 0.0
        return (config.latency_ms + jitter_ms) / 1000

    def admit(self) -> Rejection | None:
        return self.limiter.admit(time.monotonic(), _today())

    def rate_limit_headers(self) -> dict[str, str]:
        return self.limiter.headers(time.monotonic(), _today())

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "config": config_as_json(self.config),
            "tokenCount": len(self.tokens),
            "optOuts": [
                {
                    "subscriberIdString": opt_out.subscriber,
                    "businessUnitId": opt_out.business_unit_id,
                    "optedOutAt": iso_utc(opt_out.at),
                }
                for opt_out in self.opt_outs.all()
            ],
            "successfulUnsubscribes": self.opt_outs.successful_unsubscribes(),
            "rateLimit": self.limiter.usage(time.monotonic(), _today()),
            "scriptedFaults": [
                None if fault is None else fault.value for fault in self.faults.pending_script
            ],
            "callCount": len(self.calls),
        }


def _today() -> date:
    return datetime.now(UTC).date()
