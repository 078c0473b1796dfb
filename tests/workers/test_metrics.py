"""The Prometheus exporter over a real HTTP scrape, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from ingest.outcomes import PollOutcome
from schema.models import Article, ArticleState, Feed, FetchLog, KbVersion
from tests.support.redis_keys import redis_namespace
from workers.metrics import ServiceCollector

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def scrape(sessions, worker_id) -> Iterator[Callable[[], Samples]]:
    with redis_namespace(worker_id) as (broker, prefix):
        # The queues of a deployment whose broker keys carry ``prefix`` (the plain names may be
        # another deployment's, or another test run's, on this shared database).
        broker.rpush(f"{prefix}fetch", "a", "b", "c")
        registry = CollectorRegistry()
        registry.register(
            ServiceCollector(sessions, broker, ["fetch", "extract"], key_prefix=prefix, clock=lambda: NOW)
        )
        server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)

        def get() -> Samples:
            text = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).text
            return {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }

        yield get
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_metrics_reflect_the_store_and_the_queues(sessions, scrape):
    with sessions.begin() as session:
        feed = Feed(url="https://a.example/rss", next_poll_at=NOW - timedelta(minutes=1), failure_score=1.0)
        session.add(feed)
        session.flush()
        session.add_all(
            [
                FetchLog(
                    feed_id=feed.id,
                    started_at=NOW - timedelta(minutes=5),
                    outcome=PollOutcome.OK,
                    duration_ms=200,
                ),
                FetchLog(
                    feed_id=feed.id,
                    started_at=NOW - timedelta(minutes=2),
                    outcome=PollOutcome.SOFT_FAILURE,
                    duration_ms=400,
                ),
            ]
        )
        for i, state in enumerate(
            [ArticleState.DONE, ArticleState.DONE, ArticleState.PENDING, ArticleState.FAILED]
        ):
            session.add(
                Article(
                    canonical_url=f"https://a.example/{i}",
                    url=f"https://a.example/{i}",
                    state=state,
                    created_at=NOW - timedelta(minutes=10),
                    processed_at=NOW - timedelta(minutes=10 - 2 * i)
                    if state != ArticleState.PENDING
                    else None,
                    text="stored text" if state == ArticleState.DONE else None,
                    kb_version=("0+old", "1+new")[i] if state == ArticleState.DONE else None,
                )
            )
        session.add(KbVersion(version="1+new"))  # the newest a worker runs: one article is behind

    metrics = scrape()

    assert metrics[("mediamon_feed_polls_total", (("outcome", "ok"),))] == 1
    assert metrics[("mediamon_feed_polls_total", (("outcome", "soft_failure"),))] == 1
    assert metrics[("mediamon_feeds", (("health", "due"),))] == 1
    assert metrics[("mediamon_feeds", (("health", "failing"),))] == 1
    assert metrics[("mediamon_articles", (("state", "done"),))] == 2
    assert metrics[("mediamon_articles", (("state", "pending"),))] == 1
    assert metrics[("mediamon_articles_awaiting_rematch", ())] == 1
    assert metrics[("mediamon_queue_depth", (("queue", "fetch"),))] == 3
    assert metrics[("mediamon_queue_depth", (("queue", "extract"),))] == 0
    assert metrics[("mediamon_feed_fetch_seconds", (("quantile", "0.5"),))] == pytest.approx(0.3)
    # latencies 0 s, 120 s and 360 s: the median is 120 s
    assert metrics[("mediamon_article_latency_seconds", (("quantile", "0.5"),))] == pytest.approx(120)
