"""Buckets, zeros, time zones and sparklines: the pure side of timelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.periods import PeriodError, parse_period
from reports.trends import CountRow, align, bucket_starts, build_timeline, sparkline

NOW = datetime(2025, 5, 31, 12, 30, tzinfo=UTC)


def test_every_bucket_is_present_and_weeks_start_on_monday():
    weeks = bucket_starts(datetime(2025, 4, 16, tzinfo=UTC), datetime(2025, 5, 16, tzinfo=UTC), "week")
    assert [w.date().isoformat() for w in weeks] == [
        "2025-04-14",
        "2025-04-21",
        "2025-04-28",
        "2025-05-05",
        "2025-05-12",
    ]
    assert all(w.weekday() == 0 for w in weeks)
    months = bucket_starts(datetime(2024, 11, 20, tzinfo=UTC), datetime(2025, 2, 2, tzinfo=UTC), "month")
    assert [m.strftime("%Y-%m") for m in months] == ["2024-11", "2024-12", "2025-01", "2025-02"]


def test_days_across_a_daylight_saving_change_are_local_midnights():
    zone = ZoneInfo("Europe/London")  # clocks went forward on 30 March 2025: that day has 23 hours
    days = bucket_starts(
        datetime(2025, 3, 29, tzinfo=zone), datetime(2025, 4, 1, tzinfo=zone), "day", "Europe/London"
    )
    assert [(d.day, d.hour, d.utcoffset()) for d in days] == [
        (29, 0, timedelta(0)),
        (30, 0, timedelta(0)),
        (31, 0, timedelta(hours=1)),
    ]
    hours = bucket_starts(
        datetime(2025, 3, 30, tzinfo=zone), datetime(2025, 3, 31, tzinfo=zone), "hour", "Europe/London"
    )
    assert len(hours) == 23


def test_align_widens_the_period_to_whole_buckets():
    since, until = align(NOW - timedelta(days=30), NOW, "day")
    assert since == datetime(2025, 5, 1, tzinfo=UTC) and until == datetime(2025, 6, 1, tzinfo=UTC)
    assert align(since, until, "day") == (since, until), "whole days stay as they are"


def test_rows_outside_the_period_are_not_counted_and_empty_buckets_are_zero():
    since, until = datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 5, 4, tzinfo=UTC)
    rows = [
        CountRow("articles", "0.50", "", datetime(2025, 5, 1, 10, tzinfo=UTC), 2),
        CountRow("articles", "0.10", "", datetime(2025, 5, 3, 23, 59, tzinfo=UTC), 1),
        CountRow("articles", "0.90", "", datetime(2025, 5, 4, tzinfo=UTC), 5),  # the first instant after
        CountRow("claim", "c", "denies", datetime(2025, 5, 3, tzinfo=UTC), 1),
    ]
    timeline = build_timeline(rows, since=since, until=until, by="day", on_theme_threshold=0.3)
    series = {s.name: s.counts for s in timeline.series}
    assert timeline.totals == [2, 0, 1]
    assert series["on_theme"] == [2, 0, 0]
    assert series["claims:denies"] == [0, 0, 1]
    assert series["claims:asserts"] == [0, 0, 0]


def test_on_theme_uses_the_band_at_the_threshold():
    rows = [CountRow("articles", band, "", NOW, 1) for band in ("0.25", "0.30", "0.35", "none")]
    timeline = build_timeline(
        rows,
        since=NOW - timedelta(hours=1),
        until=NOW + timedelta(hours=1),
        by="hour",
        on_theme_threshold=0.3,
    )
    assert sum(timeline.series[1].counts) == 2


def test_sparkline_scales_to_the_peak():
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 5, 10]) == "▁▅█"


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("30d", None, (NOW - timedelta(days=30), NOW)),
        ("48h", None, (NOW - timedelta(hours=48), NOW)),
        ("2025-05-01", "2025-05-07", (datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 5, 8, tzinfo=UTC))),
    ],
)
def test_periods_read_spans_and_dates(since, until, expected):
    assert parse_period(since, until, now=NOW) == expected


def test_a_date_means_local_midnight_in_the_asked_zone():
    since, _until = parse_period("2025-05-01", None, now=NOW, tz="Asia/Karachi")
    assert since == datetime(2025, 4, 30, 19, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["yesterday", "30x", "2025-13-01"])
def test_bad_periods_say_what_was_expected(bad):
    with pytest.raises(PeriodError, match="span like 30d"):
        parse_period(bad, None, now=NOW)
