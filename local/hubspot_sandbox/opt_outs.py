"""Who opted out of all email, per business unit, and how often each was successfully unsubscribed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SubscriptionDefinition:
    id: int
    name: str


# The subscription types of the sandbox's one account; every status list has one entry for each.
SUBSCRIPTION_DEFINITIONS = (
    SubscriptionDefinition(101, "Marketing Information"),
    SubscriptionDefinition(102, "Product Updates"),
    SubscriptionDefinition(103, "One to One"),
)


@dataclass(frozen=True, slots=True)
class OptOut:
    subscriber: str  # as it was first written
    business_unit_id: int
    at: datetime


class OptOutStore:
    """Subscribers are compared case-insensitively, as HubSpot compares email addresses."""

    def __init__(self) -> None:
        self._opt_outs: dict[tuple[str, int], OptOut] = {}
        self._successful_unsubscribes: Counter[str] = Counter()

    def unsubscribe_all(self, subscriber: str, business_unit_id: int, now: datetime) -> tuple[OptOut, bool]:
        """Opt the subscriber out; returns the opt-out and whether this call changed anything."""
        key = (subscriber.lower(), business_unit_id)
        self._successful_unsubscribes[subscriber.lower()] += 1
        existing = self._opt_outs.get(key)
        if existing is not None:
            return existing, False
        opt_out = OptOut(subscriber, business_unit_id, now)
        self._opt_outs[key] = opt_out
        return opt_out, True

    def find(self, subscriber: str, business_unit_id: int) -> OptOut | None:
        return self._opt_outs.get((subscriber.lower(), business_unit_id))

    def all(self) -> list[OptOut]:
        return list(self._opt_outs.values())

    def successful_unsubscribes(self) -> dict[str, int]:
        """Successful unsubscribe-all calls (single or batch) per lower-cased subscriber."""
        return dict(self._successful_unsubscribes)
