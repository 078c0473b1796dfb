"""A claim's history from its day counters: first outlet, lags, flips, quiet spells, spreading.

The histories are built from events (``history_from_events`` derives the counters the rollup
keeps, each outlet's first article and the newest ones), so the expectations below follow from
the events' own dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from reports.history import (
    LATEST,
    ClaimEvent,
    DayCount,
    build_history,
    day_counts,
    history_from_events,
    latest_from,
)

T0 = datetime(2025, 5, 1, 8, tzinfo=UTC)


def event(i: int, hours: float, source: str, stance: str) -> ClaimEvent:
    return ClaimEvent(
        i, T0 + timedelta(hours=hours), source, stance, f"title {i}", f"https://{source}/{i}", 0.9
    )


def test_spreading_means_a_busy_week_against_the_usual_one():
    quiet_month = [event(i, 24 * 7 * i, "dawn.com", "asserts") for i in range(4)]  # one a week
    burst = [event(10 + i, 24 * 35 + i, "app.com.pk", "reports") for i in range(5)]
    now = T0 + timedelta(days=36)
    history = history_from_events("c", "statement", quiet_month + burst, now=now)
    assert history.recent == 5 and history.spreading
    assert history.baseline_weekly == 3 / 4, "three of the weekly articles fall in the four weeks before"
    steady = history_from_events("c", "statement", quiet_month, now=T0 + timedelta(days=22))
    assert not steady.spreading


def test_the_recent_week_is_seven_utc_days_ending_with_the_day_of_now():
    now = datetime(2025, 5, 20, 0, 30, tzinfo=UTC)
    events = [
        ClaimEvent(1, datetime(2025, 5, 20, 23, 0, tzinfo=UTC), "dawn.com", "asserts", "t", "u", 0.9),
        ClaimEvent(2, datetime(2025, 5, 14, 0, 0, tzinfo=UTC), "dawn.com", "asserts", "t", "u", 0.9),
        ClaimEvent(3, datetime(2025, 5, 13, 23, 59, tzinfo=UTC), "dawn.com", "asserts", "t", "u", 0.9),
        ClaimEvent(4, datetime(2025, 4, 16, 0, 0, tzinfo=UTC), "dawn.com", "asserts", "t", "u", 0.9),
        ClaimEvent(5, datetime(2025, 4, 15, 23, 0, tzinfo=UTC), "dawn.com", "asserts", "t", "u", 0.9),
    ]
    history = history_from_events("c", "statement", events, now=now)
    # Today (20 May, later than now too) back to 14 May; then 13 May back to 16 April.
    assert history.recent == 2
    assert history.baseline_weekly == 2 / 4


def test_outlets_in_order_of_first_carrying_with_lag_and_neutral_reports_ignored_for_flips():
    history = history_from_events(
        "c",
        "statement",
        [
            event(3, 30, "app.com.pk", "reports"),
            event(1, 0, "dawn.com", "asserts"),
            event(2, 5, "dawn.com", "reports"),
            event(4, 50, "dawn.com", "asserts"),
        ],
        now=T0 + timedelta(days=3),
    )
    assert history.articles == 4
    assert [(o.source, o.lag_hours, o.articles, o.stances, o.flips) for o in history.outlets] == [
        ("dawn.com", 0.0, 3, {"asserts": 2, "reports": 1}, []),
        ("app.com.pk", 30.0, 1, {"reports": 1}, []),
    ]
    assert history.first is not None and history.first.article_id == 1
    assert history.to_json()["first_seen"] == {
        "source": "dawn.com",
        "at": T0.isoformat(),
        "title": "title 1",
        "url": "https://dawn.com/1",
        "stance": "asserts",
    }


def test_flips_compare_an_outlets_days_and_a_day_with_both_stances_reads_as_such():
    day = 24  # hours
    events = [
        event(1, 0, "dawn.com", "asserts"),  # 1 May
        event(2, 2, "dawn.com", "asserts"),
        event(3, day, "dawn.com", "reports"),  # 2 May: neutral, skipped
        event(4, 2 * day, "dawn.com", "denies"),  # 3 May: a flip
        event(5, 3 * day, "dawn.com", "asserts"),  # 4 May: both
        event(6, 3 * day + 1, "dawn.com", "denies"),
        event(7, 4 * day, "dawn.com", "denies"),  # 5 May: both again, one flip for the run
        event(8, 4 * day + 1, "dawn.com", "asserts"),
        event(9, 5 * day, "dawn.com", "denies"),  # 6 May: settles on denying
        event(10, 6 * day, "dawn.com", "denies"),  # 7 May: no change
        event(11, 0, "app.com.pk", "denies"),  # both on its first day: a change within the day
        event(12, 1, "app.com.pk", "asserts"),
    ]
    history = history_from_events("c", "statement", events, now=T0 + timedelta(days=8))
    flips = {o.source: o.flips for o in history.outlets}
    assert flips["dawn.com"] == [
        "asserts→denies on 2025-05-03",
        "asserts and denies on 2025-05-04",
        "asserts and denies→denies on 2025-05-06",
    ]
    assert flips["app.com.pk"] == ["asserts and denies on 2025-05-01"]


def test_a_claim_resurfaces_after_two_quiet_weeks_and_zero_counters_do_not_count():
    events = [
        event(1, 0, "dawn.com", "asserts"),  # 1 May
        event(2, 24 * 14, "dawn.com", "asserts"),  # 15 May: 14 days on, a resurfacing
        event(3, 24 * 27, "app.com.pk", "reports"),  # 28 May: 13 days on, not one
    ]
    history = history_from_events("c", "statement", events, now=T0 + timedelta(days=30))
    assert history.resurfaced == [(date(2025, 5, 15), 14)]
    assert history.to_json()["resurfaced"] == [{"day": "2025-05-15", "quiet_days": 14}]
    # The rollup keeps a counter that went back to zero (an article moved or deleted): no day.
    days = [*day_counts(events), DayCount("geo.tv", date(2025, 6, 20), "asserts", 0)]
    firsts = {e.source: e for e in events[::-1]}
    rebuilt = build_history("c", "statement", days, firsts, events, now=T0 + timedelta(days=30))
    assert rebuilt.resurfaced == history.resurfaced
    assert [o.source for o in rebuilt.outlets] == ["dawn.com", "app.com.pk"]


def test_latest_lists_the_newest_hundred_and_latest_from_bounds_their_days():
    events = [event(i, i, "dawn.com" if i % 2 else "app.com.pk", "asserts") for i in range(250)]
    history = history_from_events("c", "statement", events, now=T0 + timedelta(days=12))
    assert history.articles == 250
    assert [e.article_id for e in history.latest] == list(range(249, 249 - LATEST, -1))
    assert history.to_json()["latest_events"] == [e.to_json() for e in history.latest]
    since = latest_from(day_counts(events))
    # 24 articles a day from 08:00 on 1 May: the 100 newest start on the fifth day from the end.
    assert since == date(2025, 5, 7)
    assert all(e.at.date() >= since for e in history.latest)
    assert sum(1 for e in events if e.at.date() >= since) >= LATEST
    assert sum(1 for e in events if e.at.date() > since) < LATEST
    assert latest_from(day_counts(events[:10])) == date(2025, 5, 1), "fewer than 100: all days"
    assert latest_from([]) is None


def test_no_events_is_an_empty_history():
    history = history_from_events("c", "statement", [], now=T0)
    assert history.first is None and history.outlets == [] and not history.spreading
    assert history.articles == 0 and history.latest == []
    assert history.to_json()["first_seen"] is None
