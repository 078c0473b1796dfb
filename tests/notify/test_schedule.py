"""When digests are due (notify/schedule.py): the local hour across DST, keys, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.kinds import Mode
from notify.schedule import ScheduleError, latest_slot


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_london_digest_stays_at_seven_local_across_both_dst_changes():
    # 2026-03-29: clocks go forward (GMT → BST); 2026-10-25: back (BST → GMT).
    dues = {}
    for day in ("2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26"):
        end_of_day = datetime.fromisoformat(f"{day}T23:00:00+00:00")
        slot = latest_slot(Mode.DAILY, "07:00", "Europe/London", end_of_day)
        assert slot is not None and slot.key == day
        dues[day] = slot.due
    assert dues["2026-03-28"] == utc(2026, 3, 28, 7)  # GMT
    assert dues["2026-03-29"] == utc(2026, 3, 29, 6)  # BST: 07:00 local is 06:00 UTC
    assert dues["2026-03-30"] == utc(2026, 3, 30, 6)
    assert dues["2026-10-24"] == utc(2026, 10, 24, 6)
    assert dues["2026-10-25"] == utc(2026, 10, 25, 7)  # GMT again
    # Never "previous slot + 24 h": the day of the change is 23 (or 25) hours long.
    assert dues["2026-03-29"] - dues["2026-03-28"] == timedelta(hours=23)
    assert dues["2026-10-25"] - dues["2026-10-24"] == timedelta(hours=25)


def test_a_slot_is_due_only_once_its_local_time_has_come():
    before = latest_slot(Mode.DAILY, "07:00", "Asia/Karachi", utc(2026, 11, 27, 1, 59))
    after = latest_slot(Mode.DAILY, "07:00", "Asia/Karachi", utc(2026, 11, 27, 2, 0))  # 07:00 PKT
    assert before is not None and before.key == "2026-11-26"
    assert after is not None and after.key == "2026-11-27" and after.due == utc(2026, 11, 27, 2)


def test_a_time_missing_on_the_spring_forward_day_runs_just_after_the_gap():
    slot = latest_slot(Mode.DAILY, "01:30", "Europe/London", utc(2026, 3, 29, 12))
    assert slot is not None and slot.due == utc(2026, 3, 29, 1, 30)  # 02:30 BST, the first moment after


def test_weekly_digests_fall_on_their_weekday_and_are_keyed_by_iso_week():
    friday = 4
    slot = latest_slot(Mode.WEEKLY, "08:00", "UTC", utc(2026, 11, 27, 9), weekday=friday)  # a Friday
    assert slot is not None and slot.due == utc(2026, 11, 27, 8) and slot.key == "2026-W48"
    earlier = latest_slot(Mode.WEEKLY, "08:00", "UTC", utc(2026, 11, 27, 7), weekday=friday)
    assert earlier is not None and earlier.due == utc(2026, 11, 20, 8) and earlier.key == "2026-W47"


def test_instant_subscriptions_have_no_slot_and_bad_values_are_clear_errors():
    assert latest_slot(Mode.INSTANT, "07:00", "UTC", utc(2026, 11, 27)) is None
    with pytest.raises(ScheduleError, match="IANA"):
        latest_slot(Mode.DAILY, "07:00", "Mars/Olympus", utc(2026, 11, 27))
    with pytest.raises(ScheduleError, match="HH:MM"):
        latest_slot(Mode.DAILY, "7 am", "UTC", utc(2026, 11, 27))
