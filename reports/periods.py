"""Reading report periods: ``30d``, ``48h``, ``2w`` back from now, or a date or ISO time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class PeriodError(ValueError):
    """A period or time zone the reader cannot use; the message says what was expected."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(f"unknown time zone {name!r} (use an IANA name such as Asia/Karachi)") from exc


def parse_moment(text: str, *, now: datetime, tz: str = "UTC") -> datetime:
    """``30d``/``48h``/``2w`` before ``now``, or a date (midnight in ``tz``) or ISO time."""
    relative = _RELATIVE.match(text)
    if relative:
        return now - int(relative[1]) * _UNITS[relative[2].lower()]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise PeriodError(f"{text!r} is neither a span like 30d, 48h, 2w nor a date like 2025-05-01") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(UTC)


def parse_period(
    since: str | None, until: str | None, *, now: datetime, tz: str = "UTC", default_since: str = "30d"
) -> tuple[datetime, datetime]:
    """``(since, until)`` in UTC; ``until`` defaults to now. A date as ``until`` includes that day."""
    start = parse_moment(since or default_since, now=now, tz=tz)
    end = now
    if until:
        end = parse_moment(until, now=now, tz=tz)
        if len(until.strip()) == 10:  # a bare date: the whole of that day
            end += timedelta(days=1)
    if start >= end:
        raise PeriodError(
            f"the period is empty: since {start:%Y-%m-%d %H:%M} is not before until {end:%Y-%m-%d %H:%M}"
        )
    return start.astimezone(UTC), end.astimezone(UTC)
