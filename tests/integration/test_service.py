"""The background service for real: `mediamon worker` and two `mediamon beat` processes on the
machine's Redis and PostgreSQL, polling feeds served by the local corpus site; every Redis key
the service writes is under its own prefix, in the test process's own database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from matching.matcher import MatchResult
from schema import writes
from schema.db import make_engine, make_session_factory
from schema.models import Article, ArticleState, ClaimMatch, Feed, FetchLog
from tests.integration.conftest import wait_for
from tests.integration.test_pipeline import seed_page
from tests.support.corpus_site import CorpusSite, FeedItem, build_rss, corpus_items
from tests.support.redis_keys import prefixed_keys

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.mark.integration
def test_worker_and_two_beats_poll_each_feed_once_and_store_every_article(
    service_env, spawn, tmp_path, request, broker_namespace
):
    kb = load_kb(DEFAULT_KB_PATH)
    broker, prefix = broker_namespace
    # The database is this test process's alone (tests.support.redis_keys): what is there now is
    # left from earlier tests of this process, or from processes that held it before.
    keys_before = {key.decode() for key in broker.scan_iter(count=1000)}
    with CorpusSite() as site:
        site.set_static("/news/seed.html", seed_page(SEEDS_DIR / kb.sources["seed-2021"].file))
        items = [FeedItem("seed", site.url("/news/seed.html")), *corpus_items(site.base_url, 8)]
        site.set_static("/feeds/service.rss", build_rss(items), content_type="application/rss+xml")
        engine = make_engine(service_env["MEDIAMON_DATABASE_URL"])
        request.addfinalizer(engine.dispose)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            session.add(Feed(url=site.url("/feeds/service.rss")))

        spawn(service_env, "worker", "--concurrency", "2", "--hostname", "w1@%h", log="worker.log")
        for n in (1, 2):  # two beats at once must not poll the feed twice
            spawn(service_env, "beat", "--schedule", str(tmp_path / f"beat{n}"), log=f"beat{n}.log")

        def all_processed() -> bool:
            with sessions() as session:
                states = session.scalars(select(Article.state)).all()
            return len(states) == 9 and ArticleState.PENDING not in states

        # Generous: the outcome is asserted, not the speed (another test run may load the machine).
        wait_for(all_processed, 300, "9 articles processed", tmp_path)
        time.sleep(3)  # several more dispatch rounds from both beats

        with sessions() as session:
            polls = session.scalar(select(func.count()).select_from(FetchLog))
            articles = session.scalars(select(Article)).all()
            seed_article = next(a for a in articles if a.url.endswith("/news/seed.html"))
            matches = session.scalar(
                select(func.count()).select_from(ClaimMatch).where(ClaimMatch.article_id == seed_article.id)
            )

        # A knowledge-base deploy: the store holds the seed article as an older matcher left it.
        # The worker's beat-run rematch brings it to the running version, with its claims back.
        stored_version = seed_article.kb_version  # the worker's matcher version
        assert stored_version is not None and stored_version.startswith(kb.full_version + "/")
        with sessions.begin() as session:
            stale = session.get_one(Article, seed_article.id)
            writes.replace_matches(session, stale, MatchResult([], [], 0.0))
            stale.kb_version = "0+old"

        def rematched() -> bool:
            with sessions() as session:
                return session.get_one(Article, seed_article.id).kb_version == stored_version

        wait_for(rematched, 120, "the stale article matched again", tmp_path)
        with sessions() as session:
            rematches = session.scalar(
                select(func.count()).select_from(ClaimMatch).where(ClaimMatch.article_id == seed_article.id)
            )
    # Queues, bindings, unacknowledged messages, mingle and pidbox, the politeness slots: all
    # under the prefix, so another run's service (another prefix) never meets them.
    written = {key.decode() for key in broker.scan_iter(count=1000)} - keys_before
    assert written, "the service kept its queues in the test's database"
    assert written <= set(prefixed_keys(broker, prefix)), sorted(written)
    assert polls == 1, "the feed was polled once per due time, not once per beat"
    assert len({a.canonical_url for a in articles}) == 9
    assert seed_article.state == ArticleState.DONE
    assert matches is not None and matches >= 0.8 * len(kb.claims_from("seed-2021"))
    assert rematches == matches, "matched again by the worker, the same claims as when stored"
