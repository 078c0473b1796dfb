"""Feed-list services (services/feeds.py) on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from ingest.feeds import FeedSource, read_feed_list
from schema.models import Feed, FeedState
from services.feeds import add_feeds, feed_sources, feeds_for_run, list_feeds, remove_feeds


def test_a_fresh_store_runs_on_the_default_list(sessions, tmp_path: Path):
    default = tmp_path / "feeds.txt"
    default.write_text("https://a.example/rss\nhttps://b.example/rss\n", encoding="utf-8")

    first = feeds_for_run(sessions, None, default)
    second = feeds_for_run(sessions, None, default)

    assert first.seeded_from_default == 2
    assert second.seeded_from_default == 0, "once there are feeds, the default list is not loaded again"
    assert sorted(first.feed_ids) == sorted(second.feed_ids)
    assert [s.url for s in feed_sources(sessions)] == [s.url for s in read_feed_list(default)]


def test_given_feeds_are_added_and_only_they_are_run(sessions, tmp_path: Path):
    add_feeds(sessions, [FeedSource("https://old.example/rss")])
    chosen = feeds_for_run(sessions, [FeedSource("https://new.example/rss")], tmp_path / "unused.txt")

    with sessions() as session:
        by_id = {feed.id: feed.url for feed in session.scalars(select(Feed))}
    assert [by_id[i] for i in chosen.feed_ids] == ["https://new.example/rss"]
    assert len(by_id) == 2


def test_dead_feeds_are_not_run_but_are_listed(sessions, tmp_path: Path):
    add_feeds(sessions, [FeedSource("https://live.example/rss"), FeedSource("https://dead.example/rss")])
    with sessions.begin() as session:
        session.execute(
            update(Feed).where(Feed.url == "https://dead.example/rss").values(state=FeedState.DEAD)
        )

    chosen = feeds_for_run(sessions, None, tmp_path / "unused.txt")

    listed = {feed.url: feed.state for feed in list_feeds(sessions)}
    assert listed == {
        "https://live.example/rss": FeedState.ACTIVE,
        "https://dead.example/rss": FeedState.DEAD,
    }
    assert len(chosen.feed_ids) == 1


def test_remove_by_id_or_url_counts_what_went(sessions):
    add_feeds(sessions, [FeedSource(f"https://{name}.example/rss") for name in ("a", "b", "c")])
    first_id = list_feeds(sessions)[0].id

    removed = remove_feeds(sessions, [str(first_id), "https://b.example/rss", "https://nope.example/rss"])

    assert removed == 2
    assert [feed.url for feed in list_feeds(sessions)] == ["https://c.example/rss"]
