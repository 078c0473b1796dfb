"""Thin tasks: each takes ids, makes one call into ``services`` (which owns the
transaction), and enqueues follow-up work only after that call has committed.

An article's way through the queues::

    dispatch_due_feeds  (maintenance)  lease due feeds            → poll_feed × N
    dispatch_deliveries (maintenance)  write due digests/alerts   → send_delivery × due rows
    send_delivery       (deliver, I/O) one outbox row to SMTP / Apprise / .eml
    poll_feed           (feeds, I/O)   feed → pending articles    → fetch_article × new
    fetch_article       (fetch, I/O)   download, stage the page   → extract_article
    extract_article     (extract, CPU) clean, match, store
    sweep_stale_articles (maintenance) re-enqueue articles whose worker died (lease run out)
                                       and pending/fetched rows whose message was lost
    rematch_stale       (maintenance)  match stored articles of an older matcher version again,
                                       a batch a run                → rematch_stale while full

Every task is idempotent: a redelivered ``poll_feed`` inserts nothing twice (unique canonical
URLs); a redelivered ``fetch_article``/``extract_article`` skips an article that has moved
on, or that another task holds (``services.leases``: fetch and extract claim their article and
renew the claim while they work). If the broker is unreachable when follow-ups are enqueued, the
rows stay in the database and the sweeper enqueues them later: nothing accepted is lost.

The matcher (knowledge base, embedding model, claim vectors) is built once per worker: in the
worker's main process before the pool forks (``workers.memory``), so every pool process shares
its pages, or else in each process at its first task.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from amqp.exceptions import ChannelError
from celery import current_app, shared_task
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import InterfaceError, OperationalError

from config.settings import Settings
from ingest.outcomes import ArticleOutcome, ArticleReport
from matching.matcher import Matcher
from schema.models import ArticleState
from services.knowledge import sync_kb
from services.leases import LeasePolicy
from services.rematch import BATCH, announce_worker_version, rematch_batch
from services.wiring import (
    Delivery,
    Store,
    WritePath,
    build_delivery,
    build_matcher,
    build_write_path,
    open_store,
)

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


def _settings() -> Settings:
    settings: Settings = current_app.conf.mediamon_settings
    return settings


@cache
def _store() -> Store:
    """One engine per worker process, made after the fork."""
    return open_store(_settings(), migrate=False)


#: Matchers built in this process, per Settings object (an app's; tests build apps of their own).
#: Keyed by identity, the Settings kept alongside so the id is never reused; Settings holds lists
#: and cannot be hashed.
_matchers: dict[int, tuple[Settings, Matcher]] = {}


def matcher(settings: Settings) -> Matcher:
    """The matcher of a worker. Pure (no socket, no connection), so a worker's main process may
    build it before the pool forks."""
    built = _matchers.get(id(settings))
    if built is None:
        started = time.perf_counter()
        built = _matchers[id(settings)] = (settings, build_matcher(settings))
        log.info("matcher built in %.1f s (process %d)", time.perf_counter() - started, os.getpid())
    return built[1]


@cache
def _services() -> WritePath:
    """One set of write-path services per worker process, built from the app's Settings."""
    settings = _settings()
    built = build_write_path(settings, _store(), matcher(settings))
    lease = LeasePolicy(settings.article_lease_s, settings.article_heartbeat_s)
    built = replace(built, articles=replace(built.articles, lease=lease))
    # Matches reference the entity and claim rows of this knowledge-base version.
    sync_kb(built.articles.sessions, built.articles.matcher.kb)
    announce_worker_version(built.articles.sessions, built.articles.matcher)  # for rematch_stale
    return built


@cache
def _delivery() -> Delivery:
    """Digest and alert planning and the outbox sender, per worker process."""
    return build_delivery(_settings(), _store())


@shared_task(name="workers.tasks.dispatch_due_feeds", ignore_result=True, **RETRY)
def dispatch_due_feeds(limit: int = 500) -> int:
    """Lease the feeds whose time has come and enqueue one poll each."""
    feed_ids = _services().poller.lease_due(limit)
    _enqueue(poll_feed, feed_ids)
    log.info("dispatch feeds=%d", len(feed_ids))
    return len(feed_ids)


@shared_task(name="workers.tasks.poll_feed", ignore_result=True, time_limit=120, soft_time_limit=100, **RETRY)
def poll_feed(feed_id: int) -> None:
    report = _services().poller.poll(feed_id)
    log.info(
        "poll feed=%d outcome=%s http_ms=%d entries=%d new=%d error=%r",
        feed_id,
        report.outcome.value,
        report.fetch_ms,
        report.entries_seen,
        len(report.new_article_ids),
        report.error,
    )
    _enqueue(fetch_article, report.new_article_ids)


@shared_task(
    name="workers.tasks.fetch_article", ignore_result=True, time_limit=120, soft_time_limit=100, **RETRY
)
def fetch_article(article_id: int) -> None:
    started = time.perf_counter()
    report = _services().articles.stage(article_id)
    _log_article(report, started)
    if report.outcome is ArticleOutcome.FETCHED:
        _enqueue(extract_article, [article_id])


@shared_task(
    name="workers.tasks.extract_article", ignore_result=True, time_limit=120, soft_time_limit=100, **RETRY
)
def extract_article(article_id: int) -> None:
    started = time.perf_counter()
    report = _services().articles.extract(article_id)
    _log_article(report, started)
    settings = _settings()
    if (
        settings.delivery_configured
        and report.outcome is ArticleOutcome.DONE
        and (report.relevance or 0.0) >= settings.relevance_threshold
    ):
        # The article is committed: instant subscribers hear of it now, not at the next beat.
        _signal(plan_alerts)


@shared_task(name="workers.tasks.plan_alerts", ignore_result=True, **RETRY)
def plan_alerts() -> int:
    """Write the alerts due now and enqueue their sends (a burst of triggers writes each alert
    once: the outbox's unique key per window)."""
    delivery = _delivery()
    delivery.stories.assign_pending()
    written = delivery.alerts.plan()
    _enqueue(send_delivery, written)
    return len(written)


@shared_task(name="workers.tasks.sweep_stale_articles", ignore_result=True, **RETRY)
def sweep_stale_articles(older_than_s: int = 900, limit: int = 5000) -> int:
    """Re-enqueue the articles whose worker died, and those whose message was lost.

    1. A task that claimed an article renews its lease while it works; a lease that ran out
       means the worker died (SIGKILL, out of memory) with the article in hand. Its message was
       taken, so it is enqueued again at once, whatever the queues hold (``services.leases``).
    2. An article nobody holds, left pending or fetched for ``older_than_s`` (a message lost
       with a broker restart, a soft failure waiting for its next attempt): only while the queue
       that would hold its message is empty, since behind a long backlog it is waiting its turn.
    """
    articles = _services().articles
    reclaimed = articles.reclaim_expired(limit)
    pending = [article_id for article_id, state in reclaimed if state is ArticleState.PENDING]
    fetched = [article_id for article_id, state in reclaimed if state is ArticleState.FETCHED]
    if _queue_is_empty(fetch_article.name):
        pending += articles.stale(ArticleState.PENDING, older_than_s, limit)
    if _queue_is_empty(extract_article.name):
        fetched += articles.stale(ArticleState.FETCHED, older_than_s, limit)
    pending, fetched = list(dict.fromkeys(pending)), list(dict.fromkeys(fetched))
    _enqueue(fetch_article, pending)
    _enqueue(extract_article, fetched)
    if pending or fetched:
        log.info(
            "sweep pending=%d fetched=%d (lease expired: %d)", len(pending), len(fetched), len(reclaimed)
        )
    return len(pending) + len(fetched)


@shared_task(
    name="workers.tasks.rematch_stale", ignore_result=True, time_limit=900, soft_time_limit=800, **RETRY
)
def rematch_stale() -> int:
    """Match one batch of stored articles again that an older matcher version matched (see
    ``services.rematch.rematch_batch``); a full batch enqueues the next at once, so a backlog
    drains as fast as the maintenance workers go, not one batch per beat."""
    services = _services()  # announces this worker's version first
    report = rematch_batch(services.articles.sessions, services.articles.matcher)
    if report is None:
        log.info(
            "rematch skipped: a newer matcher version than %s is in use",
            services.articles.matcher.version,
        )
        return 0
    if report.articles:
        log.info(
            "rematch articles=%d claims %d -> %d failed=%s",
            report.articles,
            report.claims_before,
            report.claims_after,
            report.failed,
        )
    if report.articles == BATCH:
        _signal(rematch_stale)
    return report.articles


@shared_task(name="workers.tasks.dispatch_deliveries", ignore_result=True, **RETRY)
def dispatch_deliveries() -> int:
    """Write the digests and alerts that are due (each once: the outbox's unique key), then
    enqueue one send per outbox row that is due, retries and crashed sends included."""
    delivery = _delivery()
    delivery.stories.assign_pending()
    written = delivery.digests.plan() + delivery.alerts.plan()
    due = delivery.outbox.due_ids()
    _enqueue(send_delivery, due)
    if written or due:
        log.info("deliveries written=%d due=%d", len(written), len(due))
    return len(due)


@shared_task(
    name="workers.tasks.send_delivery", ignore_result=True, time_limit=120, soft_time_limit=100, **RETRY
)
def send_delivery(delivery_id: int) -> None:
    """Send one outbox row; a row another worker holds, or already sent, is left alone."""
    state = _delivery().outbox.send(delivery_id)
    log.info("delivery id=%d state=%s", delivery_id, state.value if state else "not taken")


def _queue_is_empty(task_name: str) -> bool:
    """Whether the queue that task's messages are routed to holds none (routing: workers/app.py)."""
    queue = current_app.conf.task_routes[task_name]["queue"]
    with current_app.connection_for_read() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:
            return True  # Redis forgets a queue once it is drained (and after a restart)
        return int(declared.message_count) == 0


def _log_article(report: ArticleReport, started: float) -> None:
    log.info(
        "article id=%d outcome=%s ms=%d mentions=%d claims=%d relevance=%s error=%r",
        report.article_id,
        report.outcome,
        (time.perf_counter() - started) * 1000,
        report.mentions,
        report.claim_matches,
        report.relevance,
        report.error,
    )


def _signal(task: object) -> None:
    """Enqueue one run of a task that takes nothing; if the broker is away, the beat's next
    dispatch does the same work."""
    try:
        getattr(task, "delay")()  # noqa: B009 - Celery's task type is untyped
    except BrokerError as exc:
        log.warning("broker unavailable, %s left for the next dispatch: %s", getattr(task, "name", task), exc)


def _enqueue(task: object, ids: Sequence[int]) -> None:
    """Enqueue one message per id; a broker outage leaves the rest to the sweeper."""
    delay = getattr(task, "delay")  # noqa: B009 - Celery's task type is untyped
    for done, item in enumerate(ids):
        try:
            delay(item)
        except BrokerError as exc:
            # The rows are committed: the sweeper (or the feed's lease expiring) brings them back.
            log.warning("broker unavailable, %d id(s) left for the sweeper: %s", len(ids) - done, exc)
            return
