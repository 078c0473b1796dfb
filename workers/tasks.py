"""Thin tasks: each takes ids, makes one call into ``ingest.pipeline`` (which owns the
transaction), and enqueues follow-up work only after that call has committed.

Every task is idempotent: a redelivered ``poll_feed`` inserts nothing twice (unique canonical
URLs), a redelivered ``process_article`` skips an article that is no longer pending. If the
broker is unreachable when follow-ups are enqueued, the articles stay ``pending`` in the
database and ``sweep_pending_articles`` enqueues them again later: nothing accepted is lost.
"""

from __future__ import annotations

import logging
from functools import cache

from celery import current_app, shared_task
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import InterfaceError, OperationalError

from ingest.pipeline import Pipeline
from mediamon.settings import Settings
from mediamon.wiring import build_matcher, build_pipeline, open_store

log = logging.getLogger("mediamon.tasks")

#: Database errors that a retry can cure (server restarting, connection dropped). Not
#: IntegrityError: that is a bug or a race the pipeline already resolves itself.
TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 20,
}


@cache
def _pipeline() -> Pipeline:
    """One pipeline per worker process, built after the fork from the app's Settings."""
    settings: Settings = current_app.conf.mediamon_settings
    pipeline = build_pipeline(settings, open_store(settings, migrate=False), build_matcher(settings))
    pipeline.sync_kb()  # matches reference entity and claim rows of this knowledge-base version
    return pipeline


@shared_task(name="workers.tasks.dispatch_due_feeds", ignore_result=True, **RETRY)
def dispatch_due_feeds(limit: int = 500) -> int:
    """Lease the feeds whose time has come and enqueue one poll each."""
    feed_ids = _pipeline().lease_due_feeds(limit)
    for feed_id in feed_ids:
        poll_feed.delay(feed_id)
    log.info("dispatched %d due feed(s)", len(feed_ids))
    return len(feed_ids)


@shared_task(name="workers.tasks.poll_feed", ignore_result=True, time_limit=120, soft_time_limit=100, **RETRY)
def poll_feed(feed_id: int) -> None:
    report = _pipeline().poll_feed(feed_id)
    log.info(
        "poll feed=%d outcome=%s entries=%d new=%d fetch_ms=%d error=%s",
        feed_id,
        report.outcome.value,
        report.entries_seen,
        len(report.new_article_ids),
        report.fetch_ms,
        report.error,
    )
    _enqueue_articles(report.new_article_ids)


@shared_task(
    name="workers.tasks.process_article", ignore_result=True, time_limit=180, soft_time_limit=150, **RETRY
)
def process_article(article_id: int) -> None:
    report = _pipeline().process_article(article_id)
    log.info(
        "article id=%d outcome=%s mentions=%d claims=%d relevance=%s error=%s",
        article_id,
        report.outcome,
        report.mentions,
        report.claim_matches,
        report.relevance,
        report.error,
    )


@shared_task(name="workers.tasks.sweep_pending_articles", ignore_result=True, **RETRY)
def sweep_pending_articles(older_than_s: int = 900, limit: int = 5000) -> int:
    """Re-enqueue articles left pending (a lost message, a broker restart, a killed worker)."""
    article_ids = _pipeline().stale_pending_articles(older_than_s, limit)
    _enqueue_articles(article_ids)
    return len(article_ids)


def _enqueue_articles(article_ids: tuple[int, ...] | list[int]) -> None:
    for article_id in article_ids:
        try:
            process_article.delay(article_id)
        except BrokerError as exc:
            # The rows are committed as pending: the sweeper will enqueue them once the broker is back.
            log.warning("broker unavailable, %d article(s) left for the sweeper: %s", len(article_ids), exc)
            return
