"""The Pipeline: feed polling and article processing together, and the one-shot pass.

The pipeline package is the only code of ``ingest/`` that touches the database: it is handed
a session factory, composes the pure steps (fetch → parse → dedupe → clean → match) and
commits once per unit of work. Network I/O is kept apart from database writes (``fetch_*``
vs ``record_*``/``complete_*``) so that the one-shot run can download in threads while one
thread writes, and the Celery tasks can run the network and CPU halves on separate queues.

An article's way through here::

    poll_feed(feed_id)            fetch feed → parse → canonical URLs → pending article rows
    process_article(article_id)   fetch page → clean → fingerprint → match → done / duplicate / failed
      = stage_article(id)         (service, I/O queue) fetch page, keep it in the page table
      + extract_article(id)       (service, CPU queue) clean → fingerprint → match → stored
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ingest.http import Fetcher
from ingest.match import Matcher
from ingest.outcomes import RunSummary
from ingest.pipeline.articles import ArticleProcessing
from ingest.pipeline.base import PipelineConfig, utc_now
from ingest.pipeline.polling import FeedPolling
from schema import queries, store

ProgressHook = Callable[[str, object], None]
"""Called with ("feed", PollReport), ("articles", count) and ("article", ArticleReport) as work goes."""

_T = TypeVar("_T")


class Pipeline(FeedPolling, ArticleProcessing):
    """Feed polling and article processing over one database, HTTP client and matcher."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        fetcher: Fetcher,
        matcher: Matcher,
        config: PipelineConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.fetcher = fetcher
        self.matcher = matcher
        self.config = config or PipelineConfig()
        self.clock = clock

    def sync_kb(self) -> None:
        """Mirror the knowledge base into the entity and claim tables (matches reference them)."""
        with self.sessions.begin() as session:
            store.sync_kb(session, self.matcher.kb)

    def run_once(self, feed_ids: Sequence[int], progress: ProgressHook | None = None) -> RunSummary:
        """Poll the given feeds and process every pending article of theirs.

        Downloads run in a thread pool (the fetcher limits concurrency per host); parsing,
        cleaning, matching and writing happen in the calling thread, one transaction each,
        as downloads finish.
        """
        summary = RunSummary()
        self.sync_kb()
        with ThreadPoolExecutor(max_workers=self.config.fetch_workers, thread_name_prefix="fetch") as pool:
            for feed_id, fetched in _as_done(pool, self.fetch_feed, feed_ids):
                poll = self.record_poll(feed_id, fetched)
                summary.add_poll(poll)
                if progress:
                    progress("feed", poll)
            with self.sessions() as session:
                pending = queries.pending_article_ids(session, list(feed_ids))
            if progress:
                progress("articles", len(pending))
            for article_id, page in _as_done(pool, self.fetch_article, pending):
                report = self.complete_article(article_id, page)
                summary.add_article(report)
                if progress:
                    progress("article", report)
        return summary


def _as_done(
    pool: ThreadPoolExecutor, fetch: Callable[[int], _T], ids: Iterable[int]
) -> Iterable[tuple[int, _T]]:
    futures = {pool.submit(fetch, item): item for item in ids}
    for future in as_completed(futures):
        yield futures[future], future.result()
