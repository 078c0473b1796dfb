from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.feeds import (
    DEAD_AFTER,
    MAX_BACKOFF,
    MAX_INTERVAL,
    MIN_INTERVAL,
    FeedListError,
    FeedSource,
    Schedule,
    after_failure,
    after_success,
    parse_opml,
    read_feed_list,
    to_opml,
)
from mediamon.settings import DEFAULT_FEEDS_PATH

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


def test_text_feed_list_skips_comments_and_repeats(tmp_path: Path):
    path = tmp_path / "feeds.txt"
    path.write_text(
        "# comment\nhttps://a.example/feed\n\nhttps://a.example/feed  # again\nhttp://b.example/rss\n"
    )
    assert [s.url for s in read_feed_list(path)] == ["https://a.example/feed", "http://b.example/rss"]


def test_text_feed_list_rejects_non_urls_with_line_number(tmp_path: Path):
    path = tmp_path / "feeds.txt"
    path.write_text("https://a.example/feed\nftp://nope\n")
    with pytest.raises(FeedListError, match=r"feeds.txt:2: not an http\(s\) URL"):
        read_feed_list(path)


def test_missing_feed_list_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FeedListError, match="cannot read feed list"):
        read_feed_list(tmp_path / "absent.txt")


def test_opml_round_trip(tmp_path: Path):
    sources = [FeedSource("https://a.example/feed", "A & B news"), FeedSource("https://c.example/rss")]
    path = tmp_path / "feeds.opml"
    path.write_bytes(to_opml(sources))
    assert read_feed_list(path) == [sources[0], FeedSource("https://c.example/rss", "https://c.example/rss")]


def test_opml_with_entity_bomb_is_refused():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
    <opml version="2.0"><body><outline xmlUrl="https://x.example/&b;"/></body></opml>"""
    with pytest.raises(FeedListError, match="not valid OPML"):
        parse_opml(bomb)


def test_broken_opml_is_a_clear_error():
    with pytest.raises(FeedListError, match="not valid OPML"):
        parse_opml(b"<opml><body><outline")


def test_default_feed_list_is_shipped_and_valid():
    sources = read_feed_list(DEFAULT_FEEDS_PATH)
    assert len(sources) >= 15
    assert all(s.url.startswith("https://") for s in sources)
    assert any("Tehreek-e-Taliban" in s.url for s in sources)
