"""Idempotent writes and the keys behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from config.settings import DEFAULT_KB_PATH
from ingest.feeds import FeedSource
from matching.kb import load_kb
from schema import queries, writes
from schema.models import Article, ArticleState, Claim, Entity, Feed


def test_adding_feeds_twice_adds_them_once(sessions):
    sources = [FeedSource("https://a.example/rss", "A"), FeedSource("https://b.example/rss")]
    with sessions.begin() as session:
        assert writes.add_feeds(session, sources) == 2
    with sessions.begin() as session:
        assert writes.add_feeds(session, [*sources, FeedSource("https://c.example/rss")]) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Feed)) == 3


def test_pending_articles_are_unique_per_canonical_url(sessions):
    with sessions.begin() as session:
        feed = Feed(url="https://a.example/rss")
        session.add(feed)
        session.flush()
        rows = [
            {"canonical_url": f"https://a.example/{i}", "url": f"https://a.example/{i}"} for i in range(3)
        ]
        first = writes.add_pending_articles(session, feed.id, rows)
        again = writes.add_pending_articles(
            session, feed.id, [*rows, {"canonical_url": "https://a.example/9", "url": "x"}]
        )
    assert len(first) == 3
    assert len(again) == 1
    with sessions() as session:
        assert len(queries.pending_article_ids(session)) == 4


def test_one_original_per_content_fingerprint(sessions):
    with sessions.begin() as session:
        session.add(
            Article(canonical_url="https://a/1", url="https://a/1", state=ArticleState.DONE, content_hash="h")
        )
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            Article(canonical_url="https://a/2", url="https://a/2", state=ArticleState.DONE, content_hash="h")
        )
    with sessions.begin() as session:
        original = session.scalars(select(Article.id)).one()
        session.add(
            Article(
                canonical_url="https://a/2",
                url="https://a/2",
                state=ArticleState.DUPLICATE,
                content_hash="h",
                duplicate_of_id=original,
            )
        )
    with sessions() as session:
        assert queries.original_with_content(session, "h", not_id=-1) == original
        assert queries.duplicate_urls(session, [original]) == {original: ["https://a/2"]}


def test_datetimes_come_back_timezone_aware_utc_and_naive_ones_are_refused(sessions):
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5)))
    with sessions.begin() as session:
        session.add(Feed(url="https://a.example/rss", next_poll_at=moment))
    with sessions() as session:
        stored = session.scalars(select(Feed.next_poll_at)).one()
    assert stored == moment
    assert stored is not None and stored.tzinfo == UTC
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as session:
        session.add(Feed(url="https://b.example/rss", next_poll_at=datetime(2026, 1, 1)))


def test_syncing_the_knowledge_base_is_idempotent(sessions):
    kb = load_kb(DEFAULT_KB_PATH)
    for _ in range(2):
        with sessions.begin() as session:
            writes.sync_kb(session, kb)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entity)) == len(kb.entities)
        assert session.scalar(select(func.count()).select_from(Claim)) == len(kb.claims)


def test_due_feeds_are_the_active_ones_whose_time_has_come(sessions):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    with sessions.begin() as session:
        session.add_all(
            [
                Feed(url="https://never.example/rss"),
                Feed(url="https://due.example/rss", next_poll_at=now - timedelta(minutes=1)),
                Feed(url="https://later.example/rss", next_poll_at=now + timedelta(minutes=1)),
            ]
        )
    with sessions() as session:
        assert [f.url for f in queries.due_feeds(session, now)] == [
            "https://never.example/rss",
            "https://due.example/rss",
        ]
