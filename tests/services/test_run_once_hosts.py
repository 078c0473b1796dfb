"""A one-shot run where one host stalls: every other host's feeds and articles go on.

A raw server on 127.0.0.2 answers every request with half a header and then a byte a second
(each download ends at the fetch deadline); the corpus site on 127.0.0.1 serves real pages. The
run's progress events say in which order work finished.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from ingest.http import Fetcher, FetchPolicy
from ingest.outcomes import ArticleReport, PollReport
from matching.kb import load_kb
from matching.matcher import Matcher
from schema.models import Article, Feed
from services.articles import ArticleProcessor
from services.limits import WriteLimits
from services.polling import FeedPoller
from services.run_once import run_once
from tests.support.corpus_site import CorpusSite, build_rss, load_manifest
from tests.support.hostile import RawServer, trickle_header

STALLED_HOST = "127.0.0.2"
DEADLINE_S = 5.0


@pytest.fixture
def stalled() -> Iterator[RawServer]:
    with RawServer(trickle_header, host=STALLED_HOST) as server:
        yield server


def test_a_stalled_host_holds_up_neither_other_feeds_nor_other_hosts_articles(
    sessions: sessionmaker[Session], stalled: RawServer
) -> None:
    with CorpusSite() as site:
        good = [site.url(f"/pages/{page['file']}") for page in load_manifest()[:6]]
        slow = [stalled.url(f"/article/{i}") for i in range(4)]
        # The stalled host's pages come first in the feed, as they would in an aggregator's.
        items = [{"title": f"item {i}", "link": link} for i, link in enumerate(slow + good)]
        site.set_static("/feeds/mixed.rss", build_rss(items), content_type="application/rss+xml")
        with sessions.begin() as session:
            feeds = [Feed(url=stalled.url("/feed.rss")), Feed(url=site.url("/feeds/mixed.rss"))]
            session.add_all(feeds)
            session.flush()
            feed_ids = [feed.id for feed in feeds]
        policy = FetchPolicy(
            user_agent="mediamon-test",
            allowed_private_hosts=frozenset({"127.0.0.1", STALLED_HOST}),
            retries=0,
            download_timeout=DEADLINE_S,
            per_host_concurrency=2,
        )
        limits = WriteLimits(fetch_workers=4, per_host_concurrency=2)
        events: list[tuple[str, object]] = []
        with Fetcher(policy) as fetcher:
            articles = ArticleProcessor(sessions, fetcher, Matcher(load_kb(DEFAULT_KB_PATH)), limits)
            summary = run_once(
                FeedPoller(sessions, fetcher, limits), articles, feed_ids, lambda *event: events.append(event)
            )

    with sessions() as session:
        url_of = {a.id: a.url for a in session.query(Article)}
    order = [
        url_of[item.article_id] if isinstance(item, ArticleReport) else f"feed {item.url}"
        for kind, item in events
        if isinstance(item, ArticleReport | PollReport)
    ]
    good_done = [order.index(url) for url in good]
    slow_done = [order.index(url) for url in slow]
    assert max(good_done) < order.index(f"feed {stalled.url('/feed.rss')}"), (
        "the good feed's articles finish before the stalled feed's deadline"
    )
    assert max(good_done) < min(slow_done), "no good page waits behind the stalled host's"
    assert summary.feeds_failed == 1 and summary.articles_done + summary.articles_duplicate == len(good)
    assert summary.articles_retry + summary.articles_failed == len(slow)
