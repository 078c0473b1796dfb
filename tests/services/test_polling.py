"""The per-poll cap paces a long feed, it never drops entries (services.polling).

Real HTTP on 127.0.0.1 (the corpus site, honouring If-None-Match / If-Modified-Since, or a
server that ignores them), a real store on SQLite and PostgreSQL, and feeds of real articles
from the shared news corpus. Before the fix, the first poll took 200 entries and saved the
ETag and body hash; every later poll was a 304 or "unchanged" and the rest were lost.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest.dedupe import canonical_url
from ingest.http import Fetcher
from ingest.outcomes import PollOutcome, PollReport, RunSummary
from ingest.schedule import BACKLOG_DELAY
from schema.models import Article, Feed, FetchLog
from services.limits import WriteLimits
from services.polling import FeedPoller
from tests.support.corpus_site import CorpusSite, FeedItem, build_rss
from tests.support.news import NewsArticle, news

START = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
CAP = 200


def items_of(articles: list[NewsArticle]) -> list[FeedItem]:
    return [FeedItem(title=a.title, link=a.url, guid=a.id, published=a.published) for a in articles]


@dataclass
class Polls:
    """One feed on the corpus site, polled by a poller whose clock the test moves."""

    sessions: sessionmaker[Session]
    site: CorpusSite
    fetcher: Fetcher
    path: str = field(default_factory=lambda: f"/feeds/long-{uuid.uuid4().hex}.rss")
    now: datetime = START

    def serve(self, items: list[FeedItem], *, conditional: bool = True) -> None:
        self.site.set_static(
            self.path, build_rss(items), content_type="application/rss+xml", conditional=conditional
        )

    def add_feed(self, path: str | None = None) -> int:
        with self.sessions.begin() as session:
            feed = Feed(url=self.site.url(path or self.path), created_at=self.now)
            session.add(feed)
            session.flush()
            return feed.id

    def poll(self, feed_id: int) -> PollReport:
        poller = FeedPoller(
            self.sessions, self.fetcher, WriteLimits(max_entries_per_poll=CAP), lambda: self.now
        )
        report = poller.poll(feed_id)
        self.now += timedelta(minutes=10)
        return report

    def stored_keys(self, feed_id: int | None = None) -> set[str]:
        query = select(Article.canonical_url)
        if feed_id is not None:
            query = query.where(Article.feed_id == feed_id)
        with self.sessions() as session:
            return set(session.scalars(query))

    def feed(self, feed_id: int) -> Feed:
        with self.sessions() as session:
            return session.get_one(Feed, feed_id)


@pytest.fixture
def polls(sessions: sessionmaker[Session], corpus_site: CorpusSite, fetcher: Fetcher) -> Polls:
    return Polls(sessions, corpus_site, fetcher)


def test_a_1000_entry_feed_is_stored_whole_over_the_next_polls(polls: Polls) -> None:
    articles = list(news()[:1000])
    expected = {canonical_url(a.url) for a in articles}
    polls.serve(items_of(articles))  # ETag + Last-Modified; a 304 when the client sends them
    feed_id = polls.add_feed()
    needed = math.ceil(len(expected) / CAP)

    reports = []
    for _ in range(needed):
        polled_at = polls.now
        reports.append(polls.poll(feed_id))
        feed = polls.feed(feed_id)
        if reports[-1].entries_left:
            # Entries left: no validator nor body hash kept, the next poll is soon and the
            # interval is not lengthened.
            assert (feed.etag, feed.last_modified, feed.body_hash) == (None, None, None)
            assert feed.next_poll_at is not None
            assert feed.next_poll_at.replace(tzinfo=UTC) == polled_at + BACKLOG_DELAY
            assert feed.poll_interval_s <= 1800

    assert polls.stored_keys(feed_id) == expected, "every entry of the feed is stored"
    assert [r.outcome for r in reports] == [PollOutcome.OK] * needed
    # Each poll took the next entries, never the same ones again.
    assert [len(r.new_article_ids) for r in reports] == [CAP] * (needed - 1) + [
        len(expected) - CAP * (needed - 1)
    ]
    assert [r.entries_left for r in reports] == [len(expected) - CAP * (i + 1) for i in range(needed)]
    assert all(r.entries_seen == len(articles) for r in reports)

    # Done with the body: validators kept, so the next poll is a 304 and the feed slows down.
    feed = polls.feed(feed_id)
    assert feed.etag is not None and feed.body_hash is not None
    interval = feed.poll_interval_s
    after = polls.poll(feed_id)
    assert after.outcome == PollOutcome.NOT_MODIFIED
    assert polls.feed(feed_id).poll_interval_s > interval

    summary = RunSummary()
    for report in reports:
        summary.add_poll(report)
    assert summary.articles_new == len(expected)
    assert summary.entries_left == sum(r.entries_left for r in reports)


def test_a_server_that_ignores_conditional_get_is_parsed_again_while_entries_are_left(polls: Polls) -> None:
    """No ETag, no 304: the unchanged-body check must not end the pacing either."""
    articles = list(news()[1000:1450])
    polls.serve(items_of(articles), conditional=False)
    feed_id = polls.add_feed()

    outcomes = [polls.poll(feed_id) for _ in range(3)]
    assert [len(r.new_article_ids) for r in outcomes] == [200, 200, 50]
    assert [r.entries_left for r in outcomes] == [250, 50, 0]
    assert polls.stored_keys(feed_id) == {canonical_url(a.url) for a in articles}
    assert polls.poll(feed_id).outcome == PollOutcome.UNCHANGED


def test_entries_already_stored_by_another_feed_count_as_taken(polls: Polls) -> None:
    """The cap applies to entries not stored yet: a feed whose first 300 entries another feed
    already brought in takes its 100 new ones in one poll and is done with its body."""
    articles = list(news()[2000:2400])
    first = polls.path
    polls.serve(items_of(articles[:300]))
    first_id = polls.add_feed(first)
    assert [polls.poll(first_id).entries_left for _ in range(2)] == [100, 0]

    polls.path = f"/feeds/overlap-{uuid.uuid4().hex}.rss"
    # The other feed lists the same articles under tracking parameters, newest (new) last.
    tracked = [
        FeedItem(title=a.title, link=f"{a.url}?utm_source=rss&utm_medium=feed", guid=a.id) for a in articles
    ]
    polls.serve(tracked)
    second_id = polls.add_feed()
    report = polls.poll(second_id)
    assert len(report.new_article_ids) == 100
    assert report.entries_left == 0
    assert polls.stored_keys(second_id) == {canonical_url(a.url) for a in articles[300:]}
    assert polls.feed(second_id).etag is not None
    assert polls.poll(second_id).outcome == PollOutcome.NOT_MODIFIED


def test_new_entries_at_the_top_of_a_feed_with_a_backlog_are_taken_first(polls: Polls) -> None:
    """A feed lists newest first: what arrives while a backlog is worked off goes in the next
    poll, and the backlog still drains."""
    articles = list(news()[3000:3450])
    backlog, fresh = articles[:400], articles[400:]
    polls.serve(items_of(backlog))
    feed_id = polls.add_feed()
    assert polls.poll(feed_id).entries_left == 200

    polls.serve(items_of(fresh + backlog))
    report = polls.poll(feed_id)
    with polls.sessions() as session:
        taken = set(
            session.scalars(select(Article.canonical_url).where(Article.id.in_(report.new_article_ids)))
        )
    assert {canonical_url(a.url) for a in fresh} <= taken
    assert report.entries_left == 50
    assert polls.poll(feed_id).entries_left == 0
    assert polls.stored_keys(feed_id) == {canonical_url(a.url) for a in articles}


def test_the_fetch_log_counts_each_paced_poll(polls: Polls) -> None:
    articles = list(news()[4000:4250])
    polls.serve(items_of(articles))
    feed_id = polls.add_feed()
    polls.poll(feed_id)
    polls.poll(feed_id)
    with polls.sessions() as session:
        logs = session.scalars(
            select(FetchLog).where(FetchLog.feed_id == feed_id).order_by(FetchLog.id)
        ).all()
    assert [(log.http_status, log.entries_seen, log.entries_new) for log in logs] == [
        (200, 250, 200),
        (200, 250, 50),
    ]
