"""When a digest is due: the subscriber's local hour, in their IANA zone, across DST changes.

A daily digest at 07:00 Europe/London is due at 07:00 local time every day: 07:00 UTC in
winter, 06:00 UTC in summer. The slot is computed from the local calendar date each time
(never by adding 24 hours to the previous slot, which drifts by an hour twice a year). A local
time that does not exist on a spring-forward day (01:30 in London) runs at the same UTC moment
as the hour before the change, i.e. just after the gap; one that happens twice in autumn runs at
its first occurrence (``fold=0``).

Every slot has a key (the local date, or the ISO week for weekly digests): with the subscription
and the kind it is the outbox row's unique key, so a digest is written once per slot however
many schedulers look at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notify.kinds import Mode


class ScheduleError(ValueError):
    """A subscription's hour or zone cannot be read."""


@dataclass(frozen=True)
class Slot:
    """One scheduled digest: when it is due (UTC) and the key that names it."""

    due: datetime
    key: str


def parse_local_time(value: str) -> time:
    """``HH:MM`` → a time; anything else is a clear error."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        return time(hours, minutes)
    except ValueError as exc:
        raise ScheduleError(f"want a local time as HH:MM, got {value!r}") from exc


def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name; a clear error for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r} (want an IANA name like Europe/London)") from exc


def local_slot(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``at`` on the local calendar ``day`` in ``tz``, as UTC (see the module docstring for DST)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def latest_slot(mode: Mode, at_local: str, tz_name: str, now: datetime, weekday: int = 0) -> Slot | None:
    """The most recent slot at or before ``now`` for a digest subscription (None for instant)."""
    if mode is Mode.INSTANT:
        return None
    at, tz = parse_local_time(at_local), zone(tz_name)
    today = now.astimezone(tz).date()
    for back in range(0, 8):
        day = today - timedelta(days=back)
        if mode is Mode.WEEKLY and day.weekday() != weekday:
            continue
        due = local_slot(day, at, tz)
        if due <= now:
            return Slot(due, _key(mode, day))
    raise AssertionError("a daily or weekly slot always lies within the last 8 days")  # pragma: no cover


def period(mode: Mode) -> timedelta:
    """The nominal window of a digest (the first digest looks back this far)."""
    return timedelta(days=7) if mode is Mode.WEEKLY else timedelta(days=1)


def _key(mode: Mode, day: date) -> str:
    if mode is Mode.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()
