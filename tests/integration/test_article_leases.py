"""Leases on articles (services.leases), on SQLite and PostgreSQL, with a real HTTP server.

A fetch or extract task claims its article and renews the claim while it works; a claim whose
holder stopped renewing runs out and the sweeper takes the article back. The service tests
(test_service_faults.py) show the same with real worker processes; these show each rule alone.
Real time is used where the heartbeat thread is what is tested; waits are bounded and generous
(several whole leases), and no assertion is about speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH, Settings
from ingest.http import Fetcher, FetchPolicy
from ingest.outcomes import ArticleReport
from matching.kb import load_kb
from matching.matcher import Matcher
from schema.models import Article, ArticleState
from services.articles import ArticleProcessor
from services.leases import ArticleLeases, LeasePolicy
from services.limits import utc_now
from tests.integration.test_pipeline import accept
from tests.support.corpus_site import PAGES_DIR, CorpusSite, Request, Response, load_manifest

#: A lease several times longer than its heartbeat, short enough for a test to outlive it.
SHORT = LeasePolicy(lease_s=3.0, heartbeat_s=0.25)
#: Bounds a wait for a thread or a request (never reached when things go right).
HANG_S = 60.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class HeldPage:
    """A page that answers only when the test lets it, so a download is surely in flight."""

    def __init__(self, site: CorpusSite, path: str, body: bytes) -> None:
        self.arrived = threading.Event()
        self.go = threading.Event()
        self.url = site.url(path)

        def handler(request: Request) -> Response:
            self.arrived.set()
            self.go.wait(HANG_S)
            return Response(200, body, {"Content-Type": "text/html; charset=utf-8"})

        site.add_route(path, handler)


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    with CorpusSite() as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    policy = FetchPolicy(
        user_agent="mediamon-test", allowed_private_hosts=frozenset({"127.0.0.1"}), retries=0, read_timeout=30
    )
    with Fetcher(policy) as client:
        yield client


def processor(sessions: sessionmaker[Session], fetcher: Fetcher, policy: LeasePolicy) -> ArticleProcessor:
    return ArticleProcessor(sessions, fetcher, Matcher(load_kb(DEFAULT_KB_PATH)), lease=policy)


def corpus_page() -> bytes:
    name: str = load_manifest()[0]["file"]
    return (PAGES_DIR / name).read_bytes()


def row(sessions: sessionmaker[Session], article_id: int) -> Article:
    with sessions() as session:
        return session.scalars(select(Article).where(Article.id == article_id)).one()


def run_in_thread(target: Callable[[], ArticleReport]) -> tuple[threading.Thread, list[ArticleReport]]:
    results: list[ArticleReport] = []
    thread = threading.Thread(target=lambda: results.append(target()), daemon=True)
    thread.start()
    return thread, results


# --------------------------------------------------------------------------- claims


def test_an_article_is_claimed_once_until_its_lease_runs_out_and_is_reclaimed_once(sessions):
    clock = Clock()
    leases = ArticleLeases(sessions, LeasePolicy(lease_s=60, heartbeat_s=20), clock)
    [article_id] = accept(sessions, ["https://example.org/a/claimed"])

    held = leases.claim(article_id, ArticleState.PENDING)
    assert held is not None and held.url == "https://example.org/a/claimed"
    assert leases.claim(article_id, ArticleState.PENDING) is None, "held by the first claim"
    assert leases.claim(article_id, ArticleState.FETCHED) is None, "not in that state"

    clock.advance(59)
    assert leases.reclaim_expired(100) == [], "a live lease is never reclaimed"
    assert leases.claim(article_id, ArticleState.PENDING) is None

    clock.advance(2)  # the holder stopped renewing a minute ago: its worker is gone
    assert leases.reclaim_expired(100) == [(article_id, ArticleState.PENDING)]
    assert leases.reclaim_expired(100) == [], "reclaimed (and so enqueued) once"
    stored = row(sessions, article_id)
    assert stored.lease_until is None and stored.lease_owner is None
    assert leases.renew(held) is False, "the dead holder's lease is gone"
    assert leases.claim(article_id, ArticleState.PENDING) is not None


def test_a_released_lease_frees_the_article_and_only_its_holder_releases_it(sessions):
    leases = ArticleLeases(sessions, LeasePolicy())
    [article_id] = accept(sessions, ["https://example.org/a/released"])
    first = leases.claim(article_id, ArticleState.PENDING)
    assert first is not None

    leases.release(first)
    second = leases.claim(article_id, ArticleState.PENDING)
    assert second is not None

    leases.release(first)  # a stale holder (a task that ran on) gives back nothing of another's
    assert row(sessions, article_id).lease_owner == second.owner
    assert leases.claim(article_id, ArticleState.PENDING) is None


def test_an_exception_in_the_holding_block_gives_the_article_back(sessions):
    leases = ArticleLeases(sessions, SHORT)
    [article_id] = accept(sessions, ["https://example.org/a/raised"])

    def task() -> None:
        with leases.holding(article_id, ArticleState.PENDING) as lease:
            assert lease is not None
            raise RuntimeError("the database went away mid-task")

    with pytest.raises(RuntimeError):
        task()

    assert row(sessions, article_id).lease_until is None
    assert leases.claim(article_id, ArticleState.PENDING) is not None, "a retry can claim it at once"


def test_the_heartbeat_keeps_a_slow_holders_lease_past_many_lease_lengths(sessions):
    leases = ArticleLeases(sessions, SHORT)
    [kept_id, dropped_id] = accept(sessions, ["https://example.org/a/kept", "https://example.org/a/dropped"])

    dropped = leases.claim(dropped_id, ArticleState.PENDING)  # claimed, never renewed: a killed worker
    assert dropped is not None
    with leases.holding(kept_id, ArticleState.PENDING) as kept:
        assert kept is not None
        deadline = time.monotonic() + 3 * SHORT.lease_s
        reclaimed: list[tuple[int, ArticleState]] = []
        while time.monotonic() < deadline:
            reclaimed += leases.reclaim_expired(100)
            time.sleep(0.2)
        assert leases.claim(kept_id, ArticleState.PENDING) is None, "still held by the slow worker"
        assert row(sessions, kept_id).lease_owner == kept.lease.owner

    assert reclaimed == [(dropped_id, ArticleState.PENDING)], "only the silent holder's article"
    assert row(sessions, kept_id).lease_until is None, "given back when the block ends"


# --------------------------------------------------------------------------- the service's two halves


def test_a_download_in_flight_holds_its_article_against_a_second_task_and_the_sweeper(
    sessions, site, fetcher
):
    page = HeldPage(site, "/held/slow.html", corpus_page())
    articles = processor(sessions, fetcher, SHORT)
    [article_id] = accept(sessions, [page.url])

    thread, results = run_in_thread(lambda: articles.stage(article_id))
    assert page.arrived.wait(HANG_S), "the first task is downloading"
    # The download outlives its lease three times over; its heartbeat keeps it.
    deadline = time.monotonic() + 3 * SHORT.lease_s
    while time.monotonic() < deadline:
        assert articles.reclaim_expired(100) == []
        time.sleep(0.2)
    assert articles.stage(article_id).outcome == "skipped", "a redelivered message is dropped"
    page.go.set()
    thread.join(HANG_S)

    assert [r.outcome for r in results] == ["fetched"]
    assert site.hits("/held/slow.html") == 1, "downloaded once"
    stored = row(sessions, article_id)
    assert stored.state == ArticleState.FETCHED
    assert stored.lease_until is None, "handed over for the extract task to claim"
    done = articles.extract(article_id)
    assert done.outcome == "done"
    assert row(sessions, article_id).lease_until is None


def test_an_article_held_by_a_dead_task_waits_for_its_lease_then_is_processed(sessions, site, fetcher):
    site.set_static("/news/orphan.html", corpus_page())
    clock = Clock()
    articles = processor(sessions, fetcher, LeasePolicy(lease_s=60, heartbeat_s=20))
    articles.clock = clock
    [article_id] = accept(sessions, [site.url("/news/orphan.html")])
    assert articles.leases.claim(article_id, ArticleState.PENDING) is not None  # then the worker died

    assert articles.stage(article_id).outcome == "skipped"
    assert site.hits("/news/orphan.html") == 0

    clock.advance(61)
    assert articles.reclaim_expired(100) == [(article_id, ArticleState.PENDING)]
    assert articles.stage(article_id).outcome == "fetched"
    assert articles.extract(article_id).outcome in ("done", "failed")
    assert row(sessions, article_id).state in (ArticleState.DONE, ArticleState.FAILED)


def test_the_settings_refuse_a_heartbeat_that_cannot_keep_a_lease():
    with pytest.raises(ValueError, match="at most half"):
        Settings(article_lease_s=30, article_heartbeat_s=20)
    with pytest.raises(ValueError, match="at most half"):
        LeasePolicy(lease_s=30, heartbeat_s=20)
    assert Settings().article_heartbeat_s * 2 <= Settings().article_lease_s
