"""The sandbox's settings: fixed at start, and all but the address and tokens changeable at run time."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.hubspot_sandbox.faults import FaultKind, validate_fault_rates
from local.hubspot_sandbox.quirks import Quirk, parse_quirks


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    """Everything that shapes the sandbox's answers. Times are in the unit their name ends with."""

    host: str = "127.0.0.1"
    port: int = 0
    # The tokens accepted at start, with their scopes (see auth.ALL_SCOPES); never shown in a repr.
    tokens: Mapping[str, frozenset[str]] = field(default_factory=dict, repr=False)
    rate_limit: int = 190
    rate_window_ms: int = 10_000
    daily_limit: int = 625_000
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    fault_rates: Mapping[FaultKind, float] = field(default_factory=dict)
    fault_retry_after_s: int = 1  # the Retry-After of injected 477s (and 429s with the retry-after quirk)
    timeout_hang_s: float = 30.0
    slow_delay_s: float = 2.0
    batch_max_inputs: int = 100
    invalid_subscribers: str | None = None  # a regex (searched, case-insensitive) HubSpot rejects
    # The undocumented behaviours switched on; any collection of names, kept as a frozenset of Quirk.
    quirks: Collection[Quirk | str] = frozenset()
    seed: int | None = None  # None picks one at start (shown in state(), so a run can be replayed)
    log_requests: bool = False

    def __post_init__(self) -> None:
        for name in ("port", "fault_retry_after_s"):
            _check_number(self, name, minimum=0, integer=True)
        for name in ("rate_limit", "rate_window_ms", "daily_limit", "batch_max_inputs"):
            _check_number(self, name, minimum=1, integer=True)
        for name in ("latency_ms", "jitter_ms", "timeout_hang_s", "slow_delay_s"):
            _check_number(self, name, minimum=0, integer=False)
        object.__setattr__(self, "quirks", parse_quirks(self.quirks))  # frozen: normalised once, here
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError("seed must be an integer")
        validate_fault_rates(self.fault_rates)
        if self.invalid_subscribers is not None:
            try:
                re.compile(self.invalid_subscribers)
            except re.error as error:
                raise ValueError(f"invalid_subscribers is not a valid regex: {error}") from error

    def has(self, quirk: Quirk) -> bool:
        return quirk in self.quirks

    @property
    def invalid_subscriber_pattern(self) -> re.Pattern[str] | None:
        if self.invalid_subscribers is None:
            return None
        return re.compile(self.invalid_subscribers, re.IGNORECASE)


# The listening address and request logging are fixed at start; tokens change through their own methods.
START_ONLY_FIELDS = frozenset({"host", "port", "tokens", "log_requests"})
RUNTIME_FIELDS = frozenset(f.name for f in dataclasses.fields(SandboxConfig)) - START_ONLY_FIELDS


def with_changes(config: SandboxConfig, changes: Mapping[str, Any]) -> SandboxConfig:
    """A copy with `changes` applied; accepts JSON values (fault and quirk names as strings).

    `quirks` replaces the whole set: `quirks=[]` switches every quirk off.
    """
    unknown = sorted(set(changes) - RUNTIME_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(unknown)} at run time")
    coerced = dict(changes)
    if "fault_rates" in coerced:
        coerced["fault_rates"] = {
            FaultKind(kind): float(rate) for kind, rate in dict(coerced["fault_rates"]).items()
        }
    return dataclasses.replace(config, **coerced)


def config_as_json(config: SandboxConfig) -> dict[str, Any]:
    """The settings as JSON, in the same names `with_changes` takes; tokens left out."""
    settings = {name: getattr(config, name) for name in sorted(RUNTIME_FIELDS)}
    settings["fault_rates"] = {kind.value: rate for kind, rate in config.fault_rates.items()}
    settings["quirks"] = sorted(Quirk(quirk).value for quirk in config.quirks)
    return settings


def _check_number(config: SandboxConfig, name: str, *, minimum: int, integer: bool) -> None:
    value = getattr(config, name)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or (integer and not isinstance(number, int)) or number < minimum:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} >= {minimum}, got {value!r}")
