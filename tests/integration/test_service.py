"""The background service for real: `mediamon worker` and two `mediamon beat` processes on the
machine's Redis and PostgreSQL, polling feeds served by the local corpus site."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from ingest.kb import load_kb
from mediamon.settings import DEFAULT_KB_PATH
from schema.db import make_engine, make_session_factory
from schema.models import Article, ArticleState, ClaimMatch, Feed, FetchLog
from tests.integration.test_pipeline import seed_page
from tests.support.corpus_site import CorpusSite, FeedItem, build_rss, corpus_items
from tests.support.databases import truncate_all

REDIS_URL = "redis://127.0.0.1:6379"
SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture
def broker_url(worker_id: str) -> Iterator[str]:
    """A Redis database of its own per xdist worker, emptied before and after."""
    number = 10 + (int(worker_id[2:]) if worker_id.startswith("gw") else 5)
    url = f"{REDIS_URL}/{number}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is required for the service tests: {exc}")
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def service_env(pg_url: str, broker_url: str, tmp_path: Path) -> dict[str, str]:
    truncate_all(pg_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    env.update(
        MEDIAMON_DATABASE_URL=pg_url,
        MEDIAMON_BROKER_URL=broker_url,
        MEDIAMON_ALLOWED_PRIVATE_HOSTS="127.0.0.1",
        MEDIAMON_DISPATCH_INTERVAL_S="1",
        MEDIAMON_SWEEP_INTERVAL_S="2",
        MEDIAMON_SWEEP_AFTER_S="3",
        MEDIAMON_HTTP_RETRIES="0",
    )
    return env


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `mediamon ...` processes; all are stopped (TERM, then KILL) at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str, log: str) -> subprocess.Popen[bytes]:
        handle = (tmp_path / log).open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "mediamon.cli", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        processes.append(process)
        return process

    yield start
    for process in processes:
        stop(process)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs.glob("*.log"))
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


@pytest.mark.integration
def test_worker_and_two_beats_poll_each_feed_once_and_store_every_article(
    service_env, spawn, tmp_path, request
):
    kb = load_kb(DEFAULT_KB_PATH)
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

        wait_for(all_processed, 120, "9 articles processed", tmp_path)
        time.sleep(3)  # several more dispatch rounds from both beats

        with sessions() as session:
            polls = session.scalar(select(func.count()).select_from(FetchLog))
            articles = session.scalars(select(Article)).all()
            seed_article = next(a for a in articles if a.url.endswith("/news/seed.html"))
            matches = session.scalar(
                select(func.count()).select_from(ClaimMatch).where(ClaimMatch.article_id == seed_article.id)
            )
    assert polls == 1, "the feed was polled once per due time, not once per beat"
    assert len({a.canonical_url for a in articles}) == 9
    assert seed_article.state == ArticleState.DONE
    assert matches is not None and matches >= 0.8 * len(kb.claims_from("seed-2021"))
