"""An article's date through the real write path: a feed poll (services.polling) stores the
feed's date, processing (services.articles) replaces it with the page's when the page has
one, and the four date columns stay consistent — on SQLite and PostgreSQL, over real HTTP
(the corpus site) with real corpus pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from ingest.dates import DateSource
from ingest.http import Fetcher
from ingest.outcomes import ArticleOutcome, PollOutcome
from matching.kb import KnowledgeBase, load_kb
from matching.matcher import Matcher
from schema.models import Article, ArticleState, Feed
from services.articles import ArticleProcessor
from services.export import article_records, flatten
from services.knowledge import sync_kb
from services.polling import FeedPoller
from tests.support.corpus_site import PAGES_DIR, CorpusSite, FeedItem, build_rss

#: The moment of the poll: first seen for every article here.
NOW = datetime(2024, 3, 2, 12, 0, tzinfo=UTC)
#: The note for a feed entry dated NOW + 40 days.
FUTURE_FEED_NOTE = "feed date 2024-04-11 12:00 is after first seen; used the next candidate"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(DEFAULT_KB_PATH)


@dataclass
class Stored:
    """The date columns of one article, read back from the store."""

    published: datetime | None
    published_source: DateSource | None
    date_note: str | None
    dated_at: datetime | None
    created_at: datetime

    def assert_consistent(self) -> None:
        """``published`` is empty only when the date is first seen; ``dated_at`` is
        ``published``, else first seen."""
        assert (self.published is None) == (self.published_source == DateSource.FIRST_SEEN)
        assert self.dated_at == (self.published if self.published is not None else self.created_at)


@dataclass
class Run:
    """One feed of chosen entries, polled at ``NOW`` then processed."""

    sessions: sessionmaker[Session]
    site: CorpusSite
    fetcher: Fetcher
    kb: KnowledgeBase
    feed_path: str

    def serve_page(self, path: str, corpus_file: str) -> str:
        """A corpus page at ``path`` on the site; returns its URL."""
        self.site.set_static(path, (PAGES_DIR / corpus_file).read_bytes())
        return self.site.url(path)

    def poll(self, items: list[FeedItem]) -> list[int]:
        self.site.set_static(self.feed_path, build_rss(items), content_type="application/rss+xml")
        with self.sessions.begin() as session:
            feed = Feed(url=self.site.url(self.feed_path))
            session.add(feed)
            session.flush()
            feed_id = feed.id
        report = FeedPoller(self.sessions, self.fetcher, clock=lambda: NOW).poll(feed_id)
        assert report.outcome == PollOutcome.OK, report
        assert len(report.new_article_ids) == len(items)
        return list(report.new_article_ids)

    def process(self, article_id: int) -> None:
        processor = ArticleProcessor(self.sessions, self.fetcher, Matcher(self.kb), clock=lambda: NOW)
        report = processor.process(article_id)
        assert report.outcome == ArticleOutcome.DONE, report

    def stored(self) -> dict[str, Stored]:
        """Date columns by article URL."""
        with self.sessions() as session:
            articles = session.scalars(select(Article).where(Article.state != ArticleState.FAILED)).all()
            return {
                a.url: Stored(a.published, a.published_source, a.date_note, a.dated_at, a.created_at)
                for a in articles
            }


@pytest.fixture
def run(
    sessions: sessionmaker[Session], corpus_site: CorpusSite, fetcher: Fetcher, kb: KnowledgeBase
) -> Callable[[str], Run]:
    sync_kb(sessions, kb)  # matches refer to the entity and claim rows

    def make(name: str) -> Run:
        return Run(sessions, corpus_site, fetcher, kb, f"/feeds/dates-{quote(name)}.rss")

    return make


def test_the_page_date_replaces_the_feed_date_when_the_page_has_one(run: Callable[[str], Run]) -> None:
    r = run("page-wins")
    # cbsnews.com: JSON-LD datePublished 2020-02-24T12:57:13+0000
    moment_url = r.serve_page("/news/cbs-carolina", "cbsnews.com.carolina.html")
    # nature.com: dc.date 2019-09-24 (a day, no time)
    day_url = r.serve_page("/news/nature-telescope", "nature.com.telescope.html")
    feed_moment = datetime(2020, 2, 24, 13, 5, tzinfo=UTC)
    feed_same_day = datetime(2019, 9, 24, 10, 15, tzinfo=UTC)
    ids = r.poll(
        [
            FeedItem(title="Carolina", link=moment_url, published=feed_moment),
            FeedItem(title="Telescope", link=day_url, published=feed_same_day),
        ]
    )

    polled = r.stored()
    assert polled[moment_url].published == feed_moment
    assert polled[moment_url].published_source == DateSource.FEED
    assert polled[moment_url].date_note is None
    for stored in polled.values():
        assert stored.created_at == NOW
        stored.assert_consistent()

    for article_id in ids:
        r.process(article_id)
    done = r.stored()
    # The page's own moment wins over the feed's.
    assert done[moment_url].published == datetime(2020, 2, 24, 12, 57, 13, tzinfo=UTC)
    assert done[moment_url].published_source == DateSource.PAGE
    assert done[moment_url].date_note is None
    # A page that gives the day only takes the time of the feed entry of that day.
    assert done[day_url].published == feed_same_day
    assert done[day_url].published_source == DateSource.FEED
    for stored in done.values():
        stored.assert_consistent()
    # The export says where each date came from.
    with r.sessions() as session:
        exported = {record["url"]: record for record in article_records(session, r.kb)}
    assert exported[moment_url]["published"] == "2020-02-24T12:57:13+00:00"
    assert exported[moment_url]["published_source"] == "page"
    assert flatten(exported[day_url])["published_source"] == "feed"


def test_a_future_feed_date_is_refused_with_a_note_and_the_note_outlives_processing(
    run: Callable[[str], Run],
) -> None:
    r = run("future-feed")
    future = NOW + timedelta(days=40)
    # Pages with no date of their own (a recipe, a wiki page), one at a dated path.
    plain_url = r.serve_page("/recipes/roasted-chicken", "nestle-family-com-chicken.html")
    dated_path_url = r.serve_page("/2024/02/28/wiki/penny", "stardewvalleywiki.com.penny.html")
    ids = r.poll(
        [
            FeedItem(title="Chicken", link=plain_url, published=future),
            FeedItem(title="Penny", link=dated_path_url, published=future),
        ]
    )

    for stage in ("polled", "processed"):
        if stage == "processed":
            for article_id in ids:
                r.process(article_id)
        stored = r.stored()
        plain, dated_path = stored[plain_url], stored[dated_path_url]
        # Nothing else to go by: first seen, and why the feed's date was not used.
        assert plain.published is None, stage
        assert plain.published_source == DateSource.FIRST_SEEN, stage
        assert plain.dated_at == NOW, stage
        assert plain.date_note == "feed date 2024-04-11 12:00 is after first seen; used the next candidate", (
            stage
        )
        # The URL's day, and the same note.
        assert dated_path.published == datetime(2024, 2, 28, tzinfo=UTC), stage
        assert dated_path.published_source == DateSource.URL, stage
        assert dated_path.dated_at == datetime(2024, 2, 28, tzinfo=UTC), stage
        assert dated_path.date_note == plain.date_note, stage
        for one in stored.values():
            one.assert_consistent()


def test_a_page_without_a_date_keeps_the_feed_date_or_first_seen(run: Callable[[str], Run]) -> None:
    r = run("undated-pages")
    feed_dated_url = r.serve_page("/wiki/water-making-spell", "harrypotter.fandom.com.spell.html")
    undated_url = r.serve_page("/games/fifa-21-settings", "fifplay.com.settings.html")
    feed_date = datetime(2024, 2, 29, 18, 20, tzinfo=UTC)
    ids = r.poll(
        [
            FeedItem(title="Water-Making Spell", link=feed_dated_url, published=feed_date),
            FeedItem(title="FIFA 21 Game Settings", link=undated_url),
        ]
    )
    for article_id in ids:
        r.process(article_id)

    done = r.stored()
    # The wiki's text is full of in-story dates (1994–1998); none of them becomes its date.
    assert done[feed_dated_url].published == feed_date
    assert done[feed_dated_url].published_source == DateSource.FEED
    assert done[feed_dated_url].dated_at == feed_date
    # Only a reader comment is dated on this page; the article is dated by when it was first seen.
    assert done[undated_url].published is None
    assert done[undated_url].published_source == DateSource.FIRST_SEEN
    assert done[undated_url].dated_at == NOW
    for stored in done.values():
        assert stored.date_note is None
        stored.assert_consistent()


def test_a_future_page_date_and_a_future_feed_date_are_both_noted(run: Callable[[str], Run]) -> None:
    r = run("future-page-and-feed")
    page = (PAGES_DIR / "cbsnews.com.carolina.html").read_bytes()
    r.site.set_static("/news/cbs-carolina-2031", page.replace(b"2020-02-24T12:57:13", b"2031-02-24T12:57:13"))
    url = r.site.url("/news/cbs-carolina-2031")
    (article_id,) = r.poll([FeedItem(title="Carolina", link=url, published=NOW + timedelta(days=40))])
    r.process(article_id)

    stored = r.stored()[url]
    assert stored.published_source == DateSource.FIRST_SEEN
    assert stored.dated_at == NOW
    assert stored.date_note == (
        "page date 2031-02-24 12:57 is after first seen; used the next candidate; "
        "feed date 2024-04-11 12:00 is after first seen; used the next candidate"
    )
    stored.assert_consistent()
