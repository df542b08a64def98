"""The quirks: behaviours HubSpot has been seen to show but does not document, each switched on by name.

With no quirk on, the sandbox answers as HubSpot's OpenAPI documents and developer docs say. The
README says where each quirk was seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Quirk(StrEnum):
    """An undocumented behaviour; the value is how the CLI, the config and the admin API name it."""

    RETRY_AFTER = "retry-after"  # rolling-window and injected 429s carry Retry-After
    PARTIAL_207 = "partial-207"  # a batch unsubscribe-all with failing inputs answers 207
    REJECT_BATCH = "reject-batch"  # a batch holding an invalid input is a 400 for all of it
    EMPTY_RESULTS = "empty-results"  # writes answer results: [] even with verbose=true
    CANCELED = "canceled"  # a subscriber's first write answers CANCELED and changes nothing
    PENDING = "pending"  # writes answer PENDING although the change was made
    SUCCESS_STATUS = "success-status"  # top-level status SUCCESS, outside the documented enum
    OTHER_BRAND_STATUSES = "other-brand-statuses"  # reads also list another brand's opt-out
    ALREADY_UNSUBSCRIBED_400 = "already-unsubscribed-400"  # a repeated single write is a 400


def parse_quirks(names: object) -> frozenset[Quirk]:
    """A set of quirks from a list of names (or Quirk values); a bare string is refused."""
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise ValueError(f"quirks must be a list of quirk names, not {names!r}")
    quirks = set()
    for name in names:
        try:
            quirks.add(Quirk(name))
        except ValueError:
            known = ", ".join(quirk.value for quirk in Quirk)
            raise ValueError(f"unknown quirk {name!r}; the quirks are {known}") from None
    return frozenset(quirks)
