"""Prometheus exporter for the service: `mediamon metrics` serves it over HTTP.

Every figure is read from the store (and the broker's queue lengths) at scrape time, so any
number of worker processes on any number of machines are counted once, with no shared
in-process state and nothing lost when a worker restarts:

    mediamon_feed_polls_total{outcome}         polls recorded in the fetch log
    mediamon_feeds{health}                      active / due / failing / dead
    mediamon_articles{state}                    pending / fetched / done / duplicate / failed
    mediamon_articles_awaiting_rematch          stored under another matcher version than the newest
    mediamon_entity_mentions_total, mediamon_claim_matches_total
    mediamon_queue_depth{queue}                 messages waiting in each Celery queue
    mediamon_article_latency_seconds{quantile}  accepted → processed, over the last hour
    mediamon_feed_fetch_seconds{quantile}       feed download time, over the last hour
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from ingest.outcomes import PollOutcome
from schema import queries
from schema.models import ArticleState
from workers.broker import quarantine_key

WINDOW = timedelta(hours=1)
QUANTILES = (0.5, 0.95, 0.99)


class ServiceCollector(Collector):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        broker: redis.Redis | None,
        queues: Sequence[str],
        *,
        key_prefix: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._queues = queues
        self._key_prefix = key_prefix
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        now = self._clock()
        with self._sessions() as session:
            polls = queries.poll_counts_by_outcome(session)
            feeds = queries.feed_counts(session, now)
            articles = queries.article_counts_by_state(session)
            totals = queries.counts(session)
            awaiting_rematch = queries.count_awaiting_rematch(session)
            latencies = queries.recent_article_latencies(session, now - WINDOW)
            fetches = queries.recent_poll_durations(session, now - WINDOW)

        counter = CounterMetricFamily("mediamon_feed_polls", "Feed polls by outcome", labels=["outcome"])
        for outcome in PollOutcome:
            counter.add_metric([outcome.value], polls.get(outcome.value, 0))
        yield counter
        gauge = GaugeMetricFamily("mediamon_feeds", "Feeds by health", labels=["health"])
        for health, value in feeds.items():
            gauge.add_metric([health], value)
        yield gauge
        gauge = GaugeMetricFamily("mediamon_articles", "Articles by state", labels=["state"])
        for state in ArticleState:
            gauge.add_metric([state.value], articles.get(state.value, 0))
        yield gauge
        yield GaugeMetricFamily(
            "mediamon_articles_awaiting_rematch",
            "Stored articles matched under another matcher version than the newest a worker runs",
            value=awaiting_rematch,
        )
        yield CounterMetricFamily(
            "mediamon_entity_mentions", "Entity mentions stored", value=totals["mentions"]
        )
        yield CounterMetricFamily(
            "mediamon_claim_matches", "Claim matches stored", value=totals["claim_matches"]
        )
        yield _quantiles("mediamon_article_latency_seconds", "Accepted to processed, last hour", latencies)
        yield _quantiles("mediamon_feed_fetch_seconds", "Feed download time, last hour", fetches)
        yield self._queue_depths()

    def _queue_depths(self) -> Metric:
        gauge = GaugeMetricFamily("mediamon_queue_depth", "Messages waiting per queue", labels=["queue"])
        if self._broker is None:
            return gauge
        try:
            for queue, depth in queue_depths(self._broker, self._queues, key_prefix=self._key_prefix).items():
                gauge.add_metric([queue], depth)
        except redis.RedisError:
            pass  # an unreachable broker shows as missing series, not as a failed scrape
        return gauge


def broker_counts(broker: redis.Redis, queues: Sequence[str], *, key_prefix: str) -> dict[str, int]:
    """For `mediamon status`: messages waiting per queue, and unreadable ones set aside."""
    depths = queue_depths(broker, queues, key_prefix=key_prefix)
    counts = {f"queue {queue}": depth for queue, depth in depths.items()}
    counts["quarantined messages"] = int(broker.llen(quarantine_key(key_prefix)))  # see workers.broker
    return counts


def queue_depths(broker: redis.Redis, queues: Sequence[str], *, key_prefix: str) -> dict[str, int]:
    """Messages waiting in each Celery queue. The Redis transport keeps a queue as a list named
    ``key_prefix + queue`` (the deployment's ``broker_key_prefix``, kombu's ``global_keyprefix``)."""
    return {queue: int(broker.llen(f"{key_prefix}{queue}")) for queue in queues}


def _quantiles(name: str, documentation: str, values: list[float]) -> Metric:
    gauge = GaugeMetricFamily(name, documentation, labels=["quantile"])
    if len(values) >= 2:
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        for q in QUANTILES:
            gauge.add_metric([str(q)], cuts[round(q * 100) - 1])
    elif values:
        for q in QUANTILES:
            gauge.add_metric([str(q)], values[0])
    return gauge
