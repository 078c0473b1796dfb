"""Processing one article: download the page, clean it, fingerprint it, match it, store it.

The article's way continues here from ``services.polling``: ``ArticleProcessor.process(id)``
downloads the page (``ingest.http``), cleans it (``ingest.clean``), fingerprints it
(``ingest.dedupe``), matches it (``matching.matcher``) and stores text and matches
(``schema.writes``), in one transaction.

The one-shot run calls :meth:`ArticleProcessor.fetch` (network, in a thread) then
:meth:`ArticleProcessor.complete` (CPU and one transaction). The service splits the same work
over two queues: :meth:`ArticleProcessor.stage` downloads and keeps the page,
:meth:`ArticleProcessor.extract` finishes it. Each of the two claims the article first and holds
a lease on it while it works (``services.leases``): a killed worker's article is taken again
once its lease runs out, a live worker's never.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.clean import ExtractionFailed, clean_html
from ingest.dates import DateSource, choose_published
from ingest.dedupe import content_fingerprint
from ingest.http import PAGE_ACCEPT, Fetcher, FetchResult
from ingest.outcomes import ArticleOutcome, ArticleReport, is_soft_failure
from matching.matcher import Matcher
from schema import queries, writes
from schema.models import Article, ArticleState, Page
from schema.writes import dated_columns
from services.leases import ArticleLeases, LeasePolicy
from services.limits import WriteLimits, elapsed_ms, utc_now

#: Downloads tried per article before a soft failure (404, 5xx, timeout) becomes final.
MAX_ARTICLE_ATTEMPTS = 3


@dataclass
class ArticleProcessor:
    """Article processing over one database, HTTP client and matcher."""

    sessions: sessionmaker[Session]
    fetcher: Fetcher
    matcher: Matcher
    limits: WriteLimits = field(default_factory=WriteLimits)
    clock: Callable[[], datetime] = utc_now
    lease: LeasePolicy = field(default_factory=LeasePolicy)  # the service's claims (stage, extract)

    @property
    def leases(self) -> ArticleLeases:
        return ArticleLeases(self.sessions, self.lease, self.clock)

    def fetch(self, article_id: int) -> FetchResult | None:
        """Network only: download a pending article's page (None if it is no longer pending)."""
        with self.sessions() as session:
            article = session.get(Article, article_id)
            if article is None or article.state != ArticleState.PENDING:
                return None
            url = article.url
        return self.fetcher.fetch(url, max_bytes=self.limits.max_page_bytes, accept=PAGE_ACCEPT)

    def stage(self, article_id: int) -> ArticleReport:
        """The service's network half: download the page and keep it for :meth:`extract`.

        A failed download is recorded at once (retry or failure), as in :meth:`complete`. The
        article is claimed first (skipped if another task holds it) and held while it downloads.
        """
        with self.leases.holding(article_id, ArticleState.PENDING) as held:
            if held is None:
                return ArticleReport(article_id, ArticleOutcome.SKIPPED)
            url = held.lease.url
            fetched = self.fetcher.fetch(url, max_bytes=self.limits.max_page_bytes, accept=PAGE_ACCEPT)
            report = self._stage(article_id, fetched)
            held.settled = _settled(report)
            return report

    def _stage(self, article_id: int, fetched: FetchResult) -> ArticleReport:
        if not fetched.ok or not _looks_like_html(fetched):
            return self.complete(article_id, fetched)
        with self.sessions.begin() as session:
            article = session.get(Article, article_id, with_for_update=True)
            if article is None or article.state != ArticleState.PENDING:
                return ArticleReport(article_id, ArticleOutcome.SKIPPED)
            session.merge(
                Page(
                    article_id=article_id,
                    final_url=fetched.final_url,
                    status=fetched.status or 200,
                    content_type=fetched.content_type[:200],
                    content=fetched.content,
                    elapsed_ms=fetched.elapsed_ms,
                    fetched_at=self.clock(),
                )
            )
            article.state = ArticleState.FETCHED
            article.lease_until = article.lease_owner = None  # for the extract task to claim
        return ArticleReport(
            article_id, ArticleOutcome.FETCHED, timings_ms={"fetch": float(fetched.elapsed_ms)}
        )

    def extract(self, article_id: int) -> ArticleReport:
        """The service's CPU half: clean, match and store a page staged by :meth:`stage`
        (claimed and held as there; the claim and the staged page in one transaction)."""
        leases = self.leases
        with self.sessions.begin() as session:
            lease = leases.claim_in(session, article_id, ArticleState.FETCHED)
            page = session.get(Page, article_id) if lease is not None else None
            fetched = (
                FetchResult(
                    url=page.final_url,
                    final_url=page.final_url,
                    status=page.status,
                    content=page.content,
                    headers={"content-type": page.content_type},
                    elapsed_ms=page.elapsed_ms,
                )
                if page is not None
                else None
            )
        if lease is None:
            return ArticleReport(article_id, ArticleOutcome.SKIPPED)
        with leases.kept(lease) as held:
            if fetched is None:
                return ArticleReport(article_id, ArticleOutcome.SKIPPED)
            report = self.complete(article_id, fetched)
            held.settled = _settled(report)
            return report

    def complete(self, article_id: int, fetched: FetchResult | None) -> ArticleReport:
        """Clean, fingerprint, match and store a fetched page, in one transaction.

        If another worker stored the same content at the same moment, the unique fingerprint
        index rejects this transaction; run again, the article is now a duplicate of that one.
        """
        try:
            return self._complete(article_id, fetched)
        except IntegrityError:
            return self._complete(article_id, fetched)

    def _complete(self, article_id: int, fetched: FetchResult | None) -> ArticleReport:
        timings: dict[str, float] = {"fetch": float(fetched.elapsed_ms) if fetched else 0.0}
        if fetched is None:
            return ArticleReport(article_id, ArticleOutcome.SKIPPED)
        with self.sessions.begin() as session:
            # Row lock on PostgreSQL: a redelivered task waits, then sees the article is done.
            article = session.get(Article, article_id, with_for_update=True)
            if article is None or article.state not in (ArticleState.PENDING, ArticleState.FETCHED):
                return ArticleReport(article_id, ArticleOutcome.SKIPPED)
            # The staged page (service path) is consumed by this transaction, whatever the outcome,
            # and the article's lease (service path) is given back with it.
            session.execute(delete(Page).where(Page.article_id == article_id))
            article.lease_until = article.lease_owner = None
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
                min_chars=self.limits.min_text_chars,
            )
            timings["clean"] = elapsed_ms(started)
            if isinstance(cleaned, ExtractionFailed):
                return self._fail(article, cleaned.reason, timings)

            started = time.perf_counter()
            fingerprint = content_fingerprint(cleaned.text)
            original_id = queries.original_with_content(session, fingerprint, article.id)
            timings["dedupe"] = elapsed_ms(started)
            if original_id is not None:
                article.state, article.duplicate_of_id = ArticleState.DUPLICATE, original_id
                article.processed_at = self.clock()
                return ArticleReport(article_id, ArticleOutcome.DUPLICATE, timings_ms=timings)

            started = time.perf_counter()
            result = self.matcher.match(cleaned.text)
            timings["match"] = elapsed_ms(started)

            started = time.perf_counter()
            article.title = cleaned.title or article.feed_title
            article.author, article.site_name = cleaned.author, cleaned.site_name
            article.language, article.text = cleaned.language, cleaned.text
            dated = choose_published(
                first_seen=article.created_at,
                page=cleaned.published,
                feed=article.published if article.published_source == DateSource.FEED else None,
                url=article.canonical_url,
            )
            if dated.source != DateSource.PAGE and article.published_source != DateSource.FEED:
                # A feed date refused at poll time is not stored: keep the note that says so.
                dated = replace(dated, note=_notes(dated.note, article.date_note))
            for name, value in dated_columns(dated).items():
                setattr(article, name, value)
            article.raw_html = (
                fetched.content.decode("utf-8", "replace") if self.limits.keep_raw_html else None
            )
            article.content_hash = fingerprint
            article.kb_version = self.matcher.version
            article.state, article.error = ArticleState.DONE, None
            article.processed_at = self.clock()
            writes.replace_matches(session, article, result)
            session.flush()
            timings["store"] = elapsed_ms(started)
            return ArticleReport(
                article_id,
                ArticleOutcome.DONE,
                mentions=len(result.mentions),
                claim_matches=len(result.claims),
                relevance=result.relevance,
                timings_ms=timings,
            )

    def _fetch_failed(
        self, article: Article, fetched: FetchResult, timings: dict[str, float]
    ) -> ArticleReport:
        soft = is_soft_failure(fetched)
        reason = fetched.error or f"HTTP {fetched.status}"
        if soft and article.attempts < MAX_ARTICLE_ATTEMPTS:
            article.state = ArticleState.PENDING
            article.error = f"{reason} (attempt {article.attempts} of {MAX_ARTICLE_ATTEMPTS}, will retry)"
            return ArticleReport(article.id, ArticleOutcome.RETRY, error=reason, timings_ms=timings)
        return self._fail(article, reason, timings)

    def _fail(self, article: Article, reason: str, timings: dict[str, float]) -> ArticleReport:
        article.state, article.error = ArticleState.FAILED, reason
        article.processed_at = self.clock()
        return ArticleReport(article.id, ArticleOutcome.FAILED, error=reason, timings_ms=timings)

    def process(self, article_id: int) -> ArticleReport:
        """Fetch and complete one article in one go (the service splits this into stage and extract).
        Safe to run twice."""
        return self.complete(article_id, self.fetch(article_id))

    def reclaim_expired(self, limit: int) -> list[tuple[int, ArticleState]]:
        """Articles whose worker died while it held them (lease run out), leases cleared: the
        sweeper enqueues them again at once, whatever the queues hold (their messages were taken)."""
        return self.leases.reclaim_expired(limit)

    def stale(self, state: ArticleState, older_than_s: int, limit: int) -> list[int]:
        """Articles left in ``state`` longer than a task should take (the sweeper's work list)."""
        before = self.clock() - timedelta(seconds=older_than_s)
        with self.sessions() as session:
            return queries.stale_article_ids(session, state, before, limit)


def _settled(report: ArticleReport) -> bool:
    """Whether the task's last transaction gave its lease back: every outcome but a skip comes
    from a transaction that cleared it (the page staged, the article stored, failed or retried)."""
    return report.outcome is not ArticleOutcome.SKIPPED


def _notes(*notes: str | None) -> str | None:
    """Date notes joined, each once; ``None`` if there is none."""
    kept = list(dict.fromkeys(note for note in notes if note))
    return "; ".join(kept) or None


def _looks_like_html(fetched: FetchResult) -> bool:
    kind = fetched.content_type.split(";")[0].strip().lower()
    return not kind or kind in ("text/html", "application/xhtml+xml", "text/plain", "application/xml")
