"""The embedded one-shot run: poll the given feeds and process every pending article of theirs.

It is the same work the Celery service does (``workers.tasks``), composed in one process:
downloads run in a thread pool (the fetcher limits concurrency per host); parsing, cleaning,
matching and writing happen in the calling thread, one transaction each, as downloads finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ingest.outcomes import RunSummary
from schema import queries
from services.articles import ArticleProcessor
from services.failures import FailureGroup, failures_by_reason
from services.knowledge import sync_kb
from services.polling import FeedPoller

ProgressHook = Callable[[str, object], None]
"""Called with ("feed", PollReport), ("articles", count) and ("article", ArticleReport) as work goes."""

_T = TypeVar("_T")


def run_once(
    poller: FeedPoller,
    articles: ArticleProcessor,
    feed_ids: Sequence[int],
    progress: ProgressHook | None = None,
) -> RunSummary:
    """Poll ``feed_ids`` and process every pending article of theirs; returns what happened."""
    summary = RunSummary()
    sync_kb(articles.sessions, articles.matcher.kb)
    workers = articles.limits.fetch_workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        for feed_id, fetched in _as_done(pool, poller.fetch, feed_ids):
            poll = poller.record(feed_id, fetched)
            summary.add_poll(poll)
            if progress:
                progress("feed", poll)
        with articles.sessions() as session:
            pending = queries.pending_article_ids(session, list(feed_ids))
        if progress:
            progress("articles", len(pending))
        for article_id, page in _as_done(pool, articles.fetch, pending):
            report = articles.complete(article_id, page)
            summary.add_article(report)
            if progress:
                progress("article", report)
    return summary


def run_failures(
    sessions: sessionmaker[Session], feed_ids: Sequence[int], started: datetime
) -> list[FailureGroup]:
    """The article failures of the run over ``feed_ids`` that began at ``started``, by reason:
    the articles of those feeds that failed, or failed softly and wait for a retry, since then.

    Read back from the store rather than from the run's reports, so the reasons are the very
    texts ``mediamon articles --state failed`` shows later.
    """
    return failures_by_reason(sessions, feed_ids=feed_ids, changed_since=started)


def _as_done(
    pool: ThreadPoolExecutor, fetch: Callable[[int], _T], ids: Iterable[int]
) -> Iterable[tuple[int, _T]]:
    futures = {pool.submit(fetch, item): item for item in ids}
    for future in as_completed(futures):
        yield futures[future], future.result()
