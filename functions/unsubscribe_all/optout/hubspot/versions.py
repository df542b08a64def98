"""The versions of the Communication Preferences API HubSpot publishes, as path segments.

HubSpot files `v4` under its legacy docs and publishes a date-based version every March and
September, each supported for 18 months; for the unsubscribe-all operations the three published
so far are identical apart from this segment. Any other segment answers 404, so it is refused
before a call is made: as a setting it is a configuration error, on the facade a 404.
"""

from __future__ import annotations

PUBLISHED_VERSIONS = ("v4", "2026-03", "2026-09")


def validate_api_version(api_version: str) -> str:
    if api_version not in PUBLISHED_VERSIONS:
        raise ValueError(f"must be one of HubSpot's published versions: {', '.join(PUBLISHED_VERSIONS)}")
    return api_version
