"""A claim's history from its events: first outlet, lags, flips, quiet spells, spreading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reports.history import ClaimEvent, build_history

T0 = datetime(2025, 5, 1, 8, tzinfo=UTC)


def event(i: int, hours: float, source: str, stance: str) -> ClaimEvent:
    return ClaimEvent(
        i, T0 + timedelta(hours=hours), source, stance, f"title {i}", f"https://{source}/{i}", 0.9
    )


def test_spreading_means_a_busy_week_against_the_usual_one():
    quiet_month = [event(i, 24 * 7 * i, "dawn.com", "asserts") for i in range(4)]  # one a week
    burst = [event(10 + i, 24 * 35 + i, "app.com.pk", "reports") for i in range(5)]
    now = T0 + timedelta(days=36)
    history = build_history("c", "statement", quiet_month + burst, now=now)
    assert history.recent == 5 and history.spreading
    steady = build_history("c", "statement", quiet_month, now=T0 + timedelta(days=22))
    assert not steady.spreading


def test_outlets_in_order_of_first_carrying_with_lag_and_neutral_reports_ignored_for_flips():
    history = build_history(
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
    assert [(o.source, o.lag_hours, o.flips) for o in history.outlets] == [
        ("dawn.com", 0.0, []),
        ("app.com.pk", 30.0, []),
    ]
    assert history.first is not None and history.first.article_id == 1
    assert history.to_json()["first_seen"] == {
        "source": "dawn.com",
        "at": T0.isoformat(),
        "title": "title 1",
        "url": "https://dawn.com/1",
    }


def test_no_events_is_an_empty_history():
    history = build_history("c", "statement", [], now=T0)
    assert history.first is None and history.outlets == [] and not history.spreading
