"""Polling one feed: conditional GET, parse, accept new entries as pending articles, log the
outcome and work out when to poll next. One transaction per poll.

An article's way starts here: ``FeedPoller.poll(feed_id)`` fetches the feed
(``ingest.http``), parses it (``ingest.parse``), keys each entry by canonical URL
(``ingest.dedupe``), stores new ones as pending rows (``schema.writes``) and reschedules the
feed (``ingest.schedule``). ``services.articles`` takes the pending rows from there.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from ingest.dates import choose_published
from ingest.dedupe import canonical_url
from ingest.http import FEED_ACCEPT, Fetcher, FetchResult
from ingest.outcomes import PollOutcome, PollReport, is_soft_failure
from ingest.parse import parse_feed
from ingest.schedule import Schedule, after_failure, after_success
from schema import queries, writes
from schema.models import ArticleState, Feed, FeedState, FetchLog
from schema.writes import dated_columns
from services.limits import WriteLimits, elapsed_ms, utc_now


@dataclass
class FeedPoller:
    """Feed polling over one database and HTTP client."""

    sessions: sessionmaker[Session]
    fetcher: Fetcher
    limits: WriteLimits = field(default_factory=WriteLimits)
    clock: Callable[[], datetime] = utc_now

    def fetch(self, feed_id: int) -> FetchResult:
        """Network only: a conditional GET of the feed with its stored validators."""
        with self.sessions() as session:
            feed = session.get_one(Feed, feed_id)
            url, etag, last_modified = feed.url, feed.etag, feed.last_modified
        return self.fetcher.fetch(
            url,
            etag=etag,
            last_modified=last_modified,
            max_bytes=self.limits.max_feed_bytes,
            accept=FEED_ACCEPT,
        )

    def record(self, feed_id: int, fetched: FetchResult) -> PollReport:
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
        return replace(
            report, fetch_ms=fetched.elapsed_ms, store_ms=int(elapsed_ms(started)) - report.parse_ms
        )

    def _apply_poll(self, session: Session, feed: Feed, fetched: FetchResult, now: datetime) -> PollReport:
        feed.last_polled_at = now
        schedule = Schedule(timedelta(seconds=feed.poll_interval_s), feed.failure_score, now)
        # HTTP caching headers set a floor on the interval, as the feed's own ttl does.
        fresh_minutes = math.ceil(fetched.fresh_for_s / 60) if fetched.fresh_for_s else None
        if fetched.not_modified:
            return self._succeeded(
                feed, schedule, now, PollOutcome.NOT_MODIFIED, seen_share=1.0, advertised=fresh_minutes
            )
        if not fetched.ok:
            soft = is_soft_failure(fetched)
            reason = fetched.error or f"HTTP {fetched.status}"
            return self._failed(feed, schedule, now, reason, soft=soft, retry_after=fetched.retry_after)

        body_hash = hashlib.sha256(fetched.content).hexdigest()
        feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        if body_hash == feed.body_hash:  # the server ignored conditional GET, the body is the same
            return self._succeeded(
                feed, schedule, now, PollOutcome.UNCHANGED, seen_share=1.0, advertised=fresh_minutes
            )

        parse_started = time.perf_counter()
        parsed = parse_feed(fetched.content, fetched.final_url, fetched.content_type)
        parse_ms = int(elapsed_ms(parse_started))
        if parsed.error:
            # Forget the validators so the next poll gets the whole body again.
            feed.etag = feed.last_modified = None
            return self._failed(feed, schedule, now, parsed.error, soft=False, parse_ms=parse_ms)

        feed.body_hash = body_hash
        if parsed.title and not feed.title:
            feed.title = parsed.title[:500]
        rows: dict[str, dict[str, object]] = {}
        for entry in parsed.entries[: self.limits.max_entries_per_poll]:
            key = canonical_url(entry.link)
            # The feed's date until the page says better (services.articles).
            dated = choose_published(first_seen=now, feed=entry.published or entry.updated, url=entry.link)
            rows.setdefault(
                key,
                {
                    "canonical_url": key,
                    "url": entry.link,
                    "entry_id": entry.entry_id,
                    "feed_title": entry.title,
                    "feed_summary": entry.summary,
                    **dated_columns(dated),
                    "state": ArticleState.PENDING,
                    "created_at": now,
                    "updated_at": now,
                    "attempts": 0,
                },
            )
        new_ids = writes.add_pending_articles(session, feed.id, list(rows.values()))
        seen_share = 1 - len(new_ids) / len(rows) if rows else 1.0
        advertised = max((m for m in (parsed.ttl_minutes, fresh_minutes) if m), default=None)
        report = self._succeeded(
            feed, schedule, now, PollOutcome.OK, seen_share=seen_share, advertised=advertised
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

    def lease_due(self, limit: int, lease: timedelta = timedelta(minutes=10)) -> list[int]:
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

    def poll(self, feed_id: int) -> PollReport:
        """Fetch and record one feed (what the poll_feed task calls)."""
        return self.record(feed_id, self.fetch(feed_id))
