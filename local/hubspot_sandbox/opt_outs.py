"""The account: who opted out of all email, per business unit, how often each was successfully
unsubscribed, and which subscribers a write has reached.

Subscribers are the same when their `str.lower()` is, as HubSpot compares email addresses: never
casefolded or normalised, so `straße@example.de` and `strasse@example.de` are two subscribers.
"""

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


def subscriber_key(subscriber: str) -> str:
    return subscriber.lower()


class OptOutStore:
    """The opt-outs, keyed by `subscriber_key` and business unit."""

    def __init__(self) -> None:
        self._opt_outs: dict[tuple[str, int], OptOut] = {}
        self._successful_unsubscribes: Counter[str] = Counter()

    def unsubscribe_all(self, subscriber: str, business_unit_id: int, now: datetime) -> tuple[OptOut, bool]:
        """Opt the subscriber out; returns the opt-out and whether this call changed anything."""
        key = (subscriber_key(subscriber), business_unit_id)
        self._successful_unsubscribes[subscriber_key(subscriber)] += 1
        existing = self._opt_outs.get(key)
        if existing is not None:
            return existing, False
        opt_out = OptOut(subscriber, business_unit_id, now)
        self._opt_outs[key] = opt_out
        return opt_out, True

    def find(self, subscriber: str, business_unit_id: int) -> OptOut | None:
        return self._opt_outs.get((subscriber_key(subscriber), business_unit_id))

    def all(self) -> list[OptOut]:
        return list(self._opt_outs.values())

    def successful_unsubscribes(self) -> dict[str, int]:
        """Successful unsubscribe-all calls (single or batch) per lower-cased subscriber."""
        return dict(self._successful_unsubscribes)


class WriteAttempts:
    """Which subscribers (per business unit) a write has reached, for the quirk that cancels the first."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, int]] = set()

    def first(self, subscriber: str, business_unit_id: int) -> bool:
        """Note a write for the subscriber; True when it is the first since start or reset."""
        key = (subscriber_key(subscriber), business_unit_id)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


@dataclass(frozen=True, slots=True)
class Account:
    """What an API call can change: the opt-outs, and the writes seen so far (for the canceled quirk)."""

    opt_outs: OptOutStore
    write_attempts: WriteAttempts
