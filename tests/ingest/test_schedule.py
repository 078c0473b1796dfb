"""Schedule arithmetic: adaptive intervals, backoff, dead feeds (ingest/schedule.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.schedule import (
    DEAD_AFTER,
    MAX_BACKOFF,
    MAX_INTERVAL,
    MIN_INTERVAL,
    Schedule,
    after_failure,
    after_success,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BASE = Schedule(interval=timedelta(minutes=30), failure_score=0.0, next_poll_at=NOW)


def test_all_seen_entries_slow_polling_down_and_new_ones_speed_it_up():
    slower = after_success(BASE, NOW, seen_share=1.0)
    faster = after_success(BASE, NOW, seen_share=0.2)
    steady = after_success(BASE, NOW, seen_share=0.7)
    assert slower.interval == timedelta(minutes=45)
    assert faster.interval == timedelta(minutes=20)
    assert steady.interval == BASE.interval
    assert slower.next_poll_at == NOW + timedelta(minutes=45)
    assert slower.failure_score == 0.0


def test_interval_stays_within_bounds_and_respects_the_feeds_own_ttl():
    tiny = Schedule(MIN_INTERVAL, 0.0, NOW)
    assert after_success(tiny, NOW, seen_share=0.0).interval == MIN_INTERVAL
    huge = Schedule(MAX_INTERVAL, 0.0, NOW)
    assert after_success(huge, NOW, seen_share=1.0).interval == MAX_INTERVAL
    # A feed advertising a 2-hour ttl is never polled more often than that.
    assert after_success(BASE, NOW, seen_share=0.0, advertised_minutes=120).interval == timedelta(hours=2)


def test_failures_back_off_exponentially_soft_at_half_weight():
    soft = after_failure(BASE, NOW, soft=True, last_success_at=NOW, created_at=NOW)
    hard = after_failure(BASE, NOW, soft=False, last_success_at=NOW, created_at=NOW)
    assert soft.failure_score == 0.5
    assert hard.failure_score == 1.0
    assert hard.next_poll_at - NOW == timedelta(minutes=60)
    assert NOW < soft.next_poll_at < hard.next_poll_at
    many = Schedule(BASE.interval, 20.0, NOW)
    assert after_failure(many, NOW, soft=False, last_success_at=NOW, created_at=NOW).next_poll_at - NOW == (
        MAX_BACKOFF
    )


def test_retry_after_is_honoured():
    nxt = after_failure(BASE, NOW, soft=True, last_success_at=None, created_at=NOW, retry_after=7200)
    assert nxt.next_poll_at - NOW == timedelta(hours=2)


def test_a_feed_failing_for_days_is_dead_but_not_one_that_just_started_failing():
    failing = Schedule(BASE.interval, 9.5, NOW)
    long_ago = NOW - DEAD_AFTER - timedelta(hours=1)
    assert after_failure(failing, NOW, soft=True, last_success_at=long_ago, created_at=long_ago).dead
    assert not after_failure(
        failing, NOW, soft=True, last_success_at=NOW - timedelta(hours=1), created_at=long_ago
    ).dead
    assert not after_failure(BASE, NOW, soft=False, last_success_at=None, created_at=long_ago).dead
