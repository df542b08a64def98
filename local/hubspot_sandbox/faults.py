"""Fault injection: which fault, if any, the next admitted API call gets."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping
from enum import StrEnum


class FaultKind(StrEnum):
    """A failure the sandbox can inject; the value is how the CLI and the admin API name it."""

    RATE_LIMITED = "429"
    LOCKED = "423"
    MIGRATING = "477"
    INTERNAL_ERROR = "500"
    BAD_GATEWAY = "502"
    SERVICE_UNAVAILABLE = "503"
    GATEWAY_TIMEOUT = "504"
    TIMEOUT = "timeout"
    DROP = "drop"
    SLOW = "slow"

    @property
    def http_status(self) -> int | None:
        """The status the fault answers with, or None for the connection-level faults."""
        return int(self.value) if self.value.isdigit() else None


NO_FAULT_NAMES = frozenset({"ok", "none"})


def parse_scripted_fault(name: str | None) -> FaultKind | None:
    """A script entry: a fault name, or None/"ok"/"none" for a call that succeeds normally."""
    if name is None or name.lower() in NO_FAULT_NAMES:
        return None
    return FaultKind(name)


def validate_fault_rates(rates: Mapping[FaultKind, float]) -> None:
    """Rates are probabilities of mutually exclusive outcomes, so they must sum to at most 1."""
    for kind, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate for {kind.value} must be between 0 and 1, got {rate}")
    if sum(rates.values()) > 1.0:
        raise ValueError("fault rates must sum to at most 1")


class FaultInjector:
    """Scripted faults first, in order; then one seeded draw against the configured rates."""

    def __init__(self, rates: Mapping[FaultKind, float], seed: int) -> None:
        self._rates = dict(rates)
        self._random = random.Random(seed)  # noqa: S311 - reproducible test faults, not cryptography
        self._script: deque[FaultKind | None] = deque()

    def set_rates(self, rates: Mapping[FaultKind, float]) -> None:
        self._rates = dict(rates)

    def reseed(self, seed: int) -> None:
        self._random.seed(seed)

    def script(self, faults: Iterable[FaultKind | None]) -> None:
        """Replace the pending script: the next calls get these faults (None = no fault)."""
        self._script = deque(faults)

    @property
    def pending_script(self) -> list[FaultKind | None]:
        return list(self._script)

    def next_fault(self) -> FaultKind | None:
        if self._script:
            return self._script.popleft()
        draw = self._random.random()
        threshold = 0.0
        for kind in FaultKind:  # a fixed order, so a seed replays the same faults however rates were given
            threshold += self._rates.get(kind, 0.0)
            if draw < threshold:
                return kind
        return None
