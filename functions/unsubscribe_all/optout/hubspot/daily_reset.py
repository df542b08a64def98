"""When HubSpot's daily limit resets: midnight in the account's time zone (a setting, UTC by default).

A 429 with the DAILY policy does not say when it clears, and HubSpot documents the reset as
midnight in the time zone set for the account. Names are IANA zones (`Europe/Berlin`); the
time-zone database comes from the system, or from the `tzdata` package where it has none.

Examples:
    >>> from datetime import datetime, UTC
    >>> DailyReset("UTC").seconds_until(datetime(2026, 12, 6, 23, 0, tzinfo=UTC))
    3600.0
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo


def time_zone(name: str) -> tzinfo:
    """The zone for an IANA name; raises ValueError naming what is wrong."""
    if name.upper() == "UTC":
        return UTC
    # Imported for another zone only: UTC, the default, needs no time-zone database.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name such as UTC or America/New_York") from None


def validate_time_zone(name: str) -> str:
    time_zone(name)
    return name


class DailyReset:
    def __init__(self, zone_name: str = "UTC") -> None:
        self._zone = time_zone(zone_name)

    def seconds_until(self, now: datetime | None = None) -> float:
        """Seconds from `now` to the next midnight in the account's zone (at least one second)."""
        local = (now or datetime.now(UTC)).astimezone(self._zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), self._zone)
        # Through UTC: a difference of two times in one zone would ignore a DST change between them.
        return max(1.0, (midnight.astimezone(UTC) - local.astimezone(UTC)).total_seconds())
