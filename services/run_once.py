"""The embedded one-shot run: poll the given feeds and process every pending article of theirs.

It is the same work the Celery service does (``workers.tasks``), composed in one process:
downloads run in a thread pool; parsing, cleaning, matching and writing happen in the calling
thread, one transaction each, as downloads finish. So an interrupted run keeps everything
finished before the interruption.

No host can hold up the others: a feed's articles start as soon as that feed is recorded (not
after the slowest feed), and at most ``per_host_concurrency`` of the pool's threads work on one
host's pages at once, the rest of that host's pages waiting their turn while other hosts' go on.
A stalled host therefore costs its own articles one download deadline each, never other hosts'.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from ingest.http import FetchResult
from ingest.outcomes import RunSummary
from schema import queries
from services.articles import ArticleProcessor
from services.failures import FailureGroup, failures_by_reason
from services.knowledge import sync_kb
from services.polling import FeedPoller

ProgressHook = Callable[[str, object], None]
"""Called with ("feed", PollReport), ("articles", count) and ("article", ArticleReport) as work
goes; "articles" gives the number of articles found so far, which grows as feeds are recorded."""


def run_once(
    poller: FeedPoller,
    articles: ArticleProcessor,
    feed_ids: Sequence[int],
    progress: ProgressHook | None = None,
) -> RunSummary:
    """Poll ``feed_ids`` and process every pending article of theirs; returns what happened."""
    summary = RunSummary()
    sync_kb(articles.sessions, articles.matcher.kb)
    notify = progress or (lambda kind, item: None)
    with ThreadPoolExecutor(max_workers=articles.limits.fetch_workers, thread_name_prefix="fetch") as pool:
        pages = _HostTurns(pool, articles.fetch, articles.limits.per_host_concurrency)
        feeds: dict[Future[Any], int] = {pool.submit(poller.fetch, f): f for f in feed_ids}
        found = 0
        while feeds or pages.running:
            done, _ = wait([*feeds, *pages.running], return_when=FIRST_COMPLETED)
            for future in done:
                if future in feeds:
                    feed_id = feeds.pop(future)
                    poll = poller.record(feed_id, future.result())
                    summary.add_poll(poll)
                    notify("feed", poll)
                    with articles.sessions() as session:
                        pending = queries.pending_article_urls(session, [feed_id])
                    found += pages.add(pending)
                    notify("articles", found)
                else:
                    article_id, page = pages.finished(future)
                    report = articles.complete(article_id, page)
                    summary.add_article(report)
                    notify("article", report)
    return summary


class _HostTurns:
    """Article downloads on a thread pool, at most ``per_host`` at once for any one host; the
    rest wait in their host's line and start as that host's downloads finish."""

    def __init__(
        self, pool: ThreadPoolExecutor, fetch: Callable[[int], FetchResult | None], per_host: int
    ) -> None:
        self.pool, self.fetch, self.per_host = pool, fetch, per_host
        self.lines: dict[str, deque[int]] = defaultdict(deque)
        self.busy: Counter[str] = Counter()
        self.running: dict[Future[Any], tuple[int, str]] = {}
        self.seen: set[int] = set()

    def add(self, articles: Sequence[tuple[int, str]]) -> int:
        """Queue ``(id, url)`` pairs not queued before; returns how many were new."""
        fresh = [(i, url) for i, url in articles if i not in self.seen]
        for article_id, url in fresh:
            self.seen.add(article_id)
            self.lines[(urlsplit(url).hostname or "").lower()].append(article_id)
        self._start()
        return len(fresh)

    def finished(self, future: Future[Any]) -> tuple[int, FetchResult | None]:
        article_id, host = self.running.pop(future)
        self.busy[host] -= 1
        self._start()
        return article_id, future.result()

    def _start(self) -> None:
        for host, line in self.lines.items():
            while line and self.busy[host] < self.per_host:
                article_id = line.popleft()
                self.busy[host] += 1
                self.running[self.pool.submit(self.fetch, article_id)] = (article_id, host)


def run_failures(
    sessions: sessionmaker[Session], feed_ids: Sequence[int], started: datetime
) -> list[FailureGroup]:
    """The article failures of the run over ``feed_ids`` that began at ``started``, by reason:
    the articles of those feeds that failed, or failed softly and wait for a retry, since then.

    Read back from the store rather than from the run's reports, so the reasons are the very
    texts ``mediamon articles --state failed`` shows later.
    """
    return failures_by_reason(sessions, feed_ids=feed_ids, changed_since=started)
