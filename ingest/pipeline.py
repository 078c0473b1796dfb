"""The service layer: one feed poll, one article, and a one-shot pass over many feeds.

This is the only module of ``ingest/`` that touches the database: it is handed a session
factory, composes the pure steps (fetch → parse → dedupe → clean → match) and commits once
per unit of work. Network I/O is separated from database writes (``fetch_*`` vs
``record_*``/``complete_*``) so that the one-shot run can download in threads while one
thread writes, and the Celery tasks can call the composed ``poll_feed``/``process_article``.

An article's way through here::

    poll_feed(feed_id)            fetch feed → parse → canonical URLs → pending article rows
    process_article(article_id)   fetch page → clean → fingerprint → match → done / duplicate / failed
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.clean import ExtractionFailed, clean_html
from ingest.dedupe import canonical_url, content_fingerprint
from ingest.feeds import Schedule, after_failure, after_success
from ingest.http import Fetcher, FetchResult
from ingest.match import Matcher
from ingest.parse import parse_feed
from schema import queries, store
from schema.models import Article, ArticleState, Feed, FeedState, FetchLog, PollOutcome

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
SOFT_HTTP_STATUSES = frozenset({404, 408, 425, 429, 500, 502, 503, 504})
MAX_ARTICLE_ATTEMPTS = 3
_T = TypeVar("_T")


@dataclass(frozen=True)
class PipelineConfig:
    max_entries_per_poll: int = 200
    max_feed_bytes: int = 5 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    min_text_chars: int = 200
    keep_raw_html: bool = False
    fetch_workers: int = 8


@dataclass(frozen=True)
class PollReport:
    feed_id: int
    url: str
    outcome: PollOutcome
    entries_seen: int = 0
    new_article_ids: tuple[int, ...] = ()
    error: str | None = None
    problem: str | None = None
    fetch_ms: int = 0
    parse_ms: int = 0
    store_ms: int = 0

    @property
    def failed(self) -> bool:
        return self.outcome in (PollOutcome.SOFT_FAILURE, PollOutcome.HARD_FAILURE)


ArticleOutcome = Literal["done", "duplicate", "failed", "retry", "skipped"]


@dataclass(frozen=True)
class ArticleReport:
    article_id: int
    outcome: ArticleOutcome
    error: str | None = None
    mentions: int = 0
    claim_matches: int = 0
    relevance: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class RunSummary:
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    articles_new: int = 0
    articles_done: int = 0
    articles_duplicate: int = 0
    articles_failed: int = 0
    articles_retry: int = 0
    claim_matches: int = 0
    mentions: int = 0
    feed_errors: list[tuple[str, str]] = field(default_factory=list)
    article_errors: list[tuple[int, str]] = field(default_factory=list)

    def add_poll(self, report: PollReport) -> None:
        self.feeds_polled += 1
        self.articles_new += len(report.new_article_ids)
        if report.outcome in (PollOutcome.NOT_MODIFIED, PollOutcome.UNCHANGED):
            self.feeds_not_modified += 1
        if report.failed:
            self.feeds_failed += 1
            self.feed_errors.append((report.url, report.error or report.outcome.value))

    def add_article(self, report: ArticleReport) -> None:
        if report.outcome == "done":
            self.articles_done += 1
            self.claim_matches += report.claim_matches
            self.mentions += report.mentions
        elif report.outcome == "duplicate":
            self.articles_duplicate += 1
        elif report.outcome == "failed":
            self.articles_failed += 1
            self.article_errors.append((report.article_id, report.error or "failed"))
        elif report.outcome == "retry":
            self.articles_retry += 1


ProgressHook = Callable[[str, object], None]
"""Called with ("feed", PollReport) or ("article", ArticleReport) as work finishes."""


def _now() -> datetime:
    return datetime.now(UTC)


def _ms(since: float) -> int:
    return int((time.perf_counter() - since) * 1000)


class Pipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        fetcher: Fetcher,
        matcher: Matcher,
        config: PipelineConfig | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.sessions = sessions
        self.fetcher = fetcher
        self.matcher = matcher
        self.config = config or PipelineConfig()
        self.clock = clock

    # --- knowledge base -------------------------------------------------------------------

    def sync_kb(self) -> None:
        with self.sessions.begin() as session:
            store.sync_kb(session, self.matcher.kb)

    # --- feeds ----------------------------------------------------------------------------

    def fetch_feed(self, feed_id: int) -> FetchResult:
        """Network only: a conditional GET of the feed with its stored validators."""
        with self.sessions() as session:
            feed = session.get_one(Feed, feed_id)
            url, etag, last_modified = feed.url, feed.etag, feed.last_modified
        return self.fetcher.fetch(
            url,
            etag=etag,
            last_modified=last_modified,
            max_bytes=self.config.max_feed_bytes,
            accept=FEED_ACCEPT,
        )

    def record_poll(self, feed_id: int, fetched: FetchResult) -> PollReport:
        """Parse a fetched feed, accept its new entries as pending articles, log and reschedule."""
        started = time.perf_counter()
        now = self.clock()
        with self.sessions.begin() as session:
            feed = session.get_one(Feed, feed_id)
            report = self._apply_poll(session, feed, fetched, now)
            session.add(
                FetchLog(
                    feed_id=feed.id,
                    started_at=now,
                    duration_ms=fetched.elapsed_ms,
                    outcome=report.outcome,
                    http_status=fetched.status,
                    entries_seen=report.entries_seen,
                    entries_new=len(report.new_article_ids),
                    error=report.error or report.problem,
                )
            )
        return replace(report, fetch_ms=fetched.elapsed_ms, store_ms=_ms(started) - report.parse_ms)

    def _apply_poll(self, session: Session, feed: Feed, fetched: FetchResult, now: datetime) -> PollReport:
        feed.last_polled_at = now
        schedule = Schedule(timedelta(seconds=feed.poll_interval_s), feed.failure_score, now)
        if fetched.not_modified:
            return self._succeeded(feed, schedule, now, PollOutcome.NOT_MODIFIED, seen_share=1.0)
        if not fetched.ok:
            soft = fetched.error_kind == "network" or fetched.status in SOFT_HTTP_STATUSES
            reason = fetched.error or f"HTTP {fetched.status}"
            return self._failed(feed, schedule, now, reason, soft=soft, retry_after=fetched.retry_after)

        body_hash = hashlib.sha256(fetched.content).hexdigest()
        feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        if body_hash == feed.body_hash:  # the server ignored conditional GET, the body is the same
            return self._succeeded(feed, schedule, now, PollOutcome.UNCHANGED, seen_share=1.0)

        parse_started = time.perf_counter()
        parsed = parse_feed(fetched.content, fetched.final_url, fetched.content_type)
        parse_ms = _ms(parse_started)
        if parsed.error:
            # Forget the validators so the next poll gets the whole body again.
            feed.etag = feed.last_modified = None
            return self._failed(feed, schedule, now, parsed.error, soft=False, parse_ms=parse_ms)

        feed.body_hash = body_hash
        if parsed.title and not feed.title:
            feed.title = parsed.title[:500]
        rows: dict[str, dict[str, object]] = {}
        for entry in parsed.entries[: self.config.max_entries_per_poll]:
            key = canonical_url(entry.link)
            rows.setdefault(
                key,
                {
                    "canonical_url": key,
                    "url": entry.link,
                    "entry_id": entry.entry_id,
                    "feed_title": entry.title,
                    "feed_summary": entry.summary,
                    "published": entry.published or entry.updated,
                    "state": ArticleState.PENDING,
                    "created_at": now,
                    "attempts": 0,
                },
            )
        new_ids = store.add_pending_articles(session, feed.id, list(rows.values()))
        seen_share = 1 - len(new_ids) / len(rows) if rows else 1.0
        report = self._succeeded(
            feed, schedule, now, PollOutcome.OK, seen_share=seen_share, advertised=parsed.ttl_minutes
        )
        return replace(
            report,
            entries_seen=len(parsed.entries),
            new_article_ids=tuple(new_ids),
            problem=parsed.problem,
            parse_ms=parse_ms,
        )

    def _succeeded(
        self,
        feed: Feed,
        schedule: Schedule,
        now: datetime,
        outcome: PollOutcome,
        *,
        seen_share: float,
        advertised: int | None = None,
    ) -> PollReport:
        nxt = after_success(schedule, now, seen_share=seen_share, advertised_minutes=advertised)
        feed.poll_interval_s = int(nxt.interval.total_seconds())
        feed.failure_score, feed.next_poll_at = 0.0, nxt.next_poll_at
        feed.last_success_at, feed.last_error = now, None
        return PollReport(feed.id, feed.url, outcome)

    def _failed(
        self,
        feed: Feed,
        schedule: Schedule,
        now: datetime,
        reason: str,
        *,
        soft: bool,
        retry_after: float | None = None,
        parse_ms: int = 0,
    ) -> PollReport:
        nxt = after_failure(
            schedule,
            now,
            soft=soft,
            last_success_at=feed.last_success_at,
            created_at=feed.created_at,
            retry_after=retry_after,
        )
        feed.failure_score, feed.next_poll_at, feed.last_error = nxt.failure_score, nxt.next_poll_at, reason
        if nxt.dead:
            feed.state = FeedState.DEAD
        outcome = PollOutcome.SOFT_FAILURE if soft else PollOutcome.HARD_FAILURE
        return PollReport(feed.id, feed.url, outcome, error=reason, parse_ms=parse_ms)

    def lease_due_feeds(self, limit: int, lease: timedelta = timedelta(minutes=10)) -> list[int]:
        """Take the due feeds and push their next poll out by ``lease``, in one transaction.

        On PostgreSQL the rows are selected ``FOR UPDATE SKIP LOCKED``, so two dispatchers
        (two beats, or an overlapping run) never take the same feed; the poll itself sets the
        real next time when it records its outcome.
        """
        now = self.clock()
        with self.sessions.begin() as session:
            feeds = queries.due_feeds(session, now, limit)
            for feed in feeds:
                feed.next_poll_at = now + lease
            return [feed.id for feed in feeds]

    def stale_pending_articles(self, older_than_s: int, limit: int) -> list[int]:
        with self.sessions() as session:
            return queries.stale_pending_article_ids(
                session, self.clock() - timedelta(seconds=older_than_s), limit
            )

    def poll_feed(self, feed_id: int) -> PollReport:
        """Fetch and record one feed (what a Celery task calls)."""
        return self.record_poll(feed_id, self.fetch_feed(feed_id))

    # --- articles -------------------------------------------------------------------------

    def fetch_article(self, article_id: int) -> FetchResult | None:
        """Network only: download a pending article's page (None if it is no longer pending)."""
        with self.sessions() as session:
            article = session.get(Article, article_id)
            if article is None or article.state != ArticleState.PENDING:
                return None
            url = article.url
        return self.fetcher.fetch(url, max_bytes=self.config.max_page_bytes, accept=PAGE_ACCEPT)

    def complete_article(self, article_id: int, fetched: FetchResult | None) -> ArticleReport:
        """Clean, fingerprint, match and store a fetched page, in one transaction."""
        timings: dict[str, float] = {"fetch": float(fetched.elapsed_ms) if fetched else 0.0}
        if fetched is None:
            return ArticleReport(article_id, "skipped")
        with self.sessions.begin() as session:
            # Row lock on PostgreSQL: a redelivered task waits, then sees the article is done.
            article = session.get(Article, article_id, with_for_update=True)
            if article is None or article.state != ArticleState.PENDING:
                return ArticleReport(article_id, "skipped")
            article.attempts += 1
            article.final_url, article.http_status = fetched.final_url, fetched.status
            if not fetched.ok:
                return self._fetch_failed(article, fetched, timings)
            if not _looks_like_html(fetched):
                return self._fail(article, f"not an HTML page ({fetched.content_type})", timings)

            started = time.perf_counter()
            cleaned = clean_html(
                fetched.content,
                fetched.final_url,
                charset=fetched.charset,
                min_chars=self.config.min_text_chars,
            )
            timings["clean"] = _ms_f(started)
            if isinstance(cleaned, ExtractionFailed):
                return self._fail(article, cleaned.reason, timings)

            started = time.perf_counter()
            fingerprint = content_fingerprint(cleaned.text)
            original_id = queries.original_with_content(session, fingerprint, article.id)
            timings["dedupe"] = _ms_f(started)
            if original_id is not None:
                article.state, article.duplicate_of_id = ArticleState.DUPLICATE, original_id
                article.processed_at = self.clock()
                return ArticleReport(article_id, "duplicate", timings_ms=timings)

            started = time.perf_counter()
            result = self.matcher.match(cleaned.text)
            timings["match"] = _ms_f(started)

            started = time.perf_counter()
            article.title = cleaned.title or article.feed_title
            article.author, article.site_name = cleaned.author, cleaned.site_name
            article.language, article.text = cleaned.language, cleaned.text
            article.published = article.published or cleaned.published
            article.raw_html = (
                fetched.content.decode("utf-8", "replace") if self.config.keep_raw_html else None
            )
            article.content_hash = fingerprint
            article.kb_version = self.matcher.kb.full_version
            article.state, article.error = ArticleState.DONE, None
            article.processed_at = self.clock()
            store.replace_matches(session, article, result)
            session.flush()
            timings["store"] = _ms_f(started)
            return ArticleReport(
                article_id,
                "done",
                mentions=len(result.mentions),
                claim_matches=len(result.claims),
                relevance=result.relevance,
                timings_ms=timings,
            )

    def _fetch_failed(
        self, article: Article, fetched: FetchResult, timings: dict[str, float]
    ) -> ArticleReport:
        soft = fetched.error_kind == "network" or fetched.status in SOFT_HTTP_STATUSES
        reason = fetched.error or f"HTTP {fetched.status}"
        if soft and article.attempts < MAX_ARTICLE_ATTEMPTS:
            article.error = f"{reason} (attempt {article.attempts} of {MAX_ARTICLE_ATTEMPTS}, will retry)"
            return ArticleReport(article.id, "retry", error=reason, timings_ms=timings)
        return self._fail(article, reason, timings)

    def _fail(self, article: Article, reason: str, timings: dict[str, float]) -> ArticleReport:
        article.state, article.error = ArticleState.FAILED, reason
        article.processed_at = self.clock()
        return ArticleReport(article.id, "failed", error=reason, timings_ms=timings)

    def process_article(self, article_id: int) -> ArticleReport:
        """Fetch and complete one article (what a Celery task calls). Safe to run twice."""
        try:
            return self.complete_article(article_id, self.fetch_article(article_id))
        except IntegrityError:
            # Another worker stored the same content first: run again, it is now a duplicate.
            return self.complete_article(article_id, self.fetch_article(article_id))

    # --- the one-shot pass ----------------------------------------------------------------

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
                try:
                    report = self.complete_article(article_id, page)
                except IntegrityError:
                    report = self.complete_article(article_id, self.fetch_article(article_id))
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


def _looks_like_html(fetched: FetchResult) -> bool:
    kind = fetched.content_type.split(";")[0].strip().lower()
    return not kind or kind in ("text/html", "application/xhtml+xml", "text/plain", "application/xml")


def _ms_f(since: float) -> float:
    return (time.perf_counter() - since) * 1000
