"""One-shot runs over feeds a test serves from its corpus site: the real write path (fetcher,
poller, article processor, lexical matcher) on the test's store, as `mediamon run --once` runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from ingest.http import Fetcher, FetchPolicy
from ingest.outcomes import RunSummary
from matching.kb import KnowledgeBase
from matching.matcher import Matcher
from schema.models import Feed
from services.articles import ArticleProcessor
from services.limits import WriteLimits
from services.polling import FeedPoller
from services.run_once import run_once
from tests.support.corpus_site import CorpusSite, build_rss


class RunFeed(Protocol):
    def __call__(self, links: list[str], *, max_page_bytes: int = ...) -> tuple[int, RunSummary]: ...


@contextmanager
def one_shot_runs(sessions: sessionmaker[Session], kb: KnowledgeBase, site: CorpusSite) -> Iterator[RunFeed]:
    """A function that serves a new feed of ``links``, adds it and runs one pass over it with
    ``max_page_bytes``; it returns the feed's id and the run's summary."""
    fetchers: list[Fetcher] = []
    served = 0

    def run(links: list[str], *, max_page_bytes: int = 5 * 1024 * 1024) -> tuple[int, RunSummary]:
        nonlocal served
        served += 1
        path = f"/feeds/one-shot-{served}.rss"
        items = [{"title": f"item {i}", "link": link} for i, link in enumerate(links)]
        site.set_static(path, build_rss(items), content_type="application/rss+xml")
        with sessions.begin() as session:
            feed = Feed(url=site.url(path))
            session.add(feed)
            session.flush()
            feed_id = feed.id
        policy = FetchPolicy(
            user_agent="mediamon-test",
            allowed_private_hosts=frozenset({"127.0.0.1"}),
            retries=0,
            connect_timeout=2,
            read_timeout=5,
        )
        fetcher = Fetcher(policy)
        fetchers.append(fetcher)
        limits = WriteLimits(fetch_workers=4, max_page_bytes=max_page_bytes)
        articles = ArticleProcessor(sessions, fetcher, Matcher(kb), limits)
        return feed_id, run_once(FeedPoller(sessions, fetcher, limits), articles, [feed_id])

    try:
        yield run
    finally:
        for fetcher in fetchers:
            fetcher.close()
