"""How HubSpot tells subscribers apart: the one rule every merge and match of addresses uses.

HubSpot compares `subscriberIdString`s as strings after `str.lower()`; nothing else is folded.
`straße@example.de` and `strasse@example.de` (equal after `casefold()`), or `é` written as one
code point and as `e` plus a combining accent (equal after Unicode normalisation), are different
people to HubSpot, and each must reach it as its own exact string.

Examples:
    >>> subscriber_key("Jane.Doe@Example.COM") == subscriber_key("jane.doe@example.com")
    True
    >>> subscriber_key("straße@example.de") == subscriber_key("strasse@example.de")
    False
"""

from __future__ import annotations


def subscriber_key(address: str) -> str:
    """Equal for two addresses exactly when HubSpot holds them as one subscriber."""
    return address.lower()
