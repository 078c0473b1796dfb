"""News-search feeds through the poller: the article behind each aggregator link is stored,
never the aggregator's page; a link that cannot be resolved is skipped with its reason in the
poll report and the fetch log. The saved feeds of tests/data/aggregators are served over real
HTTP on 127.0.0.1, on SQLite and PostgreSQL.

Google itself cannot be reached from the tests: decoding that works is shown with a stand-in
decoder answering from the saved answers file; the real googlenewsdecoder is used for the
path where Google is out of reach.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest.aggregators import Decoded, GoogleNewsDecoder, LinkDecoder
from ingest.dedupe import canonical_url
from ingest.http import Fetcher
from ingest.intake import DECODING_OFF
from ingest.outcomes import PollOutcome, PollReport
from schema.models import Article, Feed, FetchLog
from services.limits import WriteLimits
from services.polling import FeedPoller
from tests.support.corpus_site import CorpusSite

DATA = Path(__file__).resolve().parents[1] / "data" / "aggregators"
ANSWERS: dict[str, str] = json.loads((DATA / "google_news_search.decoded.json").read_text())
NOT_AN_ARTICLE = "Google News link is not an article link"
NOW = datetime(2025, 5, 24, 12, 0, tzinfo=UTC)


@dataclass
class SavedAnswers:
    """Stand-in for Google's decoding service: the saved answers, and a log of what was asked."""

    answers: dict[str, str]
    asked: list[str] = field(default_factory=list)

    def __call__(self, links: Sequence[str]) -> list[Decoded]:
        self.asked.extend(links)
        return [
            Decoded(self.answers[link]) if link in self.answers else Decoded(None, "no such article")
            for link in links
        ]


@dataclass
class Site:
    sessions: sessionmaker[Session]
    site: CorpusSite
    fetcher: Fetcher
    now: datetime = NOW

    def serve(self, saved: str) -> tuple[int, str]:
        """A saved feed at a new path, and a feed row for it: (feed id, path)."""
        path = f"/feeds/search-{uuid.uuid4().hex}.rss"
        self.put(path, (DATA / saved).read_bytes())
        with self.sessions.begin() as session:
            feed = Feed(url=self.site.url(path), created_at=self.now)
            session.add(feed)
            session.flush()
            return feed.id, path

    def put(self, path: str, body: bytes) -> None:
        self.site.set_static(path, body, content_type="application/rss+xml; charset=utf-8", conditional=True)

    def poll(self, feed_id: int, *, decoder: LinkDecoder | None = None, decode: bool = True) -> PollReport:
        limits = WriteLimits(decode_google_news=decode)
        report = FeedPoller(self.sessions, self.fetcher, limits, lambda: self.now, decoder).poll(feed_id)
        self.now += timedelta(minutes=30)
        return report

    def stored(self, feed_id: int) -> dict[str, Article]:
        with self.sessions() as session:
            rows = session.scalars(select(Article).where(Article.feed_id == feed_id)).all()
            return {a.canonical_url: a for a in rows}

    def log_error(self, feed_id: int) -> str | None:
        with self.sessions() as session:
            query = select(FetchLog.error).where(FetchLog.feed_id == feed_id).order_by(FetchLog.id.desc())
            return session.scalars(query).first()


@pytest.fixture
def site(sessions: sessionmaker[Session], corpus_site: CorpusSite, fetcher: Fetcher) -> Site:
    return Site(sessions, corpus_site, fetcher)


def test_bing_news_items_are_stored_under_the_article_url(site: Site) -> None:
    feed_id, _ = site.serve("bing_news_search.rss")
    report = site.poll(feed_id)

    assert report.outcome == PollOutcome.OK
    stored = site.stored(feed_id)
    assert len(report.new_article_ids) == len(stored) == 5
    assert all(key.startswith(("https://www.dawn.com/", "https://www.app.com.pk/")) for key in stored)
    assert all("bing.com" not in a.url for a in stored.values())
    # The target's tracking parameters go the way of any other link's.
    moscow = stored["https://www.dawn.com/news/1906189/russia-allows-taliban-to-have-ambassador-in-moscow"]
    assert moscow.feed_title == "Russia allows Taliban to have ambassador in Moscow"
    assert report.entries_skipped == 1
    assert report.problem == "1 entry skipped: Bing News link has no article URL"
    assert site.log_error(feed_id) == report.problem


def test_google_news_items_are_skipped_with_a_reason_when_decoding_is_off(site: Site) -> None:
    feed_id, _ = site.serve("google_news_search.rss")
    report = site.poll(feed_id, decode=False)

    assert report.outcome == PollOutcome.OK
    assert site.stored(feed_id) == {}, "the aggregator's pages are never stored as articles"
    assert (report.entries_seen, report.entries_skipped, report.entries_left) == (6, 6, 0)
    assert report.problem == f"5 entries skipped: {DECODING_OFF}; 1 entry skipped: {NOT_AN_ARTICLE}"
    assert site.log_error(feed_id) == report.problem
    # Skipped is dealt with: the body is done, the next poll is a 304.
    assert site.poll(feed_id, decode=False).outcome == PollOutcome.NOT_MODIFIED


def test_google_news_items_are_stored_under_the_decoded_url_and_not_decoded_twice(site: Site) -> None:
    feed_id, path = site.serve("google_news_search.rss")
    google = SavedAnswers(dict(ANSWERS))
    report = site.poll(feed_id, decoder=google)

    stored = site.stored(feed_id)
    assert set(stored) == {canonical_url(url) for url in ANSWERS.values()}
    assert len(report.new_article_ids) == 5
    assert google.asked == list(ANSWERS)
    for link, url in ANSWERS.items():
        article = stored[canonical_url(url)]
        assert article.url == url
        assert article.entry_id is not None and article.entry_id in link  # Google's id, to know it again
    assert (report.entries_skipped, report.problem) == (1, f"1 entry skipped: {NOT_AN_ARTICLE}")

    # Google publishes the feed again with one more item on top: only that one is decoded.
    body = (DATA / "google_news_search.rss").read_bytes()
    newest_id = "CBMiNEFVX3lxTE5ld2VzdC1pdGVtLWFkZGVkLWxhdGVyLWJ5LWdvb2dsZS1uZXdzLXRlc3Q"
    newest = f"https://news.google.com/rss/articles/{newest_id}?oc=5"
    item = (
        f"<item><title>A later story - Dawn</title><link>{newest}</link>"
        f'<guid isPermaLink="false">{newest_id}</guid>'
        "<pubDate>Sat, 24 May 2025 11:00:00 GMT</pubDate></item>"
    ).encode()
    site.put(path, body.replace(b"<item>", item + b"<item>", 1))
    google.answers[newest] = "https://www.dawn.com/news/1912600/a-later-story"
    google.asked.clear()
    again = site.poll(feed_id, decoder=google)
    assert google.asked == [newest]
    assert len(again.new_article_ids) == 1
    assert "https://www.dawn.com/news/1912600/a-later-story" in site.stored(feed_id)


def test_a_link_google_cannot_decode_is_skipped_with_googles_reason(site: Site) -> None:
    feed_id, _ = site.serve("google_news_search.rss")
    _undecodable, *rest = ANSWERS
    report = site.poll(feed_id, decoder=SavedAnswers({link: ANSWERS[link] for link in rest}))
    assert len(report.new_article_ids) == 4
    assert report.entries_skipped == 2
    assert "1 entry skipped: Google News link not decoded: no such article" in (report.problem or "")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_google_out_of_reach_skips_the_items_with_the_reason(site: Site) -> None:
    """The real googlenewsdecoder with no way to Google (a proxy on a closed loopback port)."""
    feed_id, _ = site.serve("google_news_search.rss")
    decoder = GoogleNewsDecoder(timeout=5, proxy=f"http://127.0.0.1:{closed_port()}")
    report = site.poll(feed_id, decoder=decoder)

    assert report.outcome == PollOutcome.OK
    assert site.stored(feed_id) == {}
    assert report.entries_skipped == 6
    assert report.problem is not None
    assert report.problem.startswith(
        "5 entries skipped: Google News link not decoded: Google News unreachable"
    )


def test_old_google_news_links_are_unwrapped_without_asking_google(site: Site) -> None:
    feed_id, _ = site.serve("google_news_legacy.rss")
    google = SavedAnswers({})
    report = site.poll(feed_id, decoder=google)
    assert google.asked == []
    assert set(site.stored(feed_id)) == {
        "https://www.dawn.com/news/1911459/iskp-claims-responsibility-for-may-11-peshawar-suicide-attack",
        "https://www.dawn.com/news/1912539/govt-sets-up-digital-assets-authority-as-per-fatf-requirement",
    }
    assert (report.entries_skipped, report.problem) == (0, None)
