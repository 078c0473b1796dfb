"""Polling one feed: conditional GET, parse, accept new entries as pending articles, log the
outcome and work out when to poll next. One transaction per poll.

An article's way starts here: ``FeedPoller.poll(feed_id)`` fetches the feed
(``ingest.http``), parses it (``ingest.parse``), resolves aggregator links and keys each entry
by canonical URL (``ingest.intake``), stores new ones as pending rows (``schema.writes``) and
reschedules the feed (``ingest.schedule``). ``services.articles`` takes the pending rows from
there.

The per-poll cap paces, it never drops: entries already stored are set aside first, the cap
applies to the rest, and while some are left the feed keeps no ETag, Last-Modified or body
hash (so the next poll gets and parses the whole body again) and is polled again soon.
Parsing, the look-ups of what is stored and the decoding of Google News links happen before
the write transaction opens: decoding asks Google over the network.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest import intake
from ingest.aggregators import DecodeError, GoogleNewsDecoder, LinkDecoder, LinkKind
from ingest.dates import choose_published
from ingest.dedupe import canonical_url
from ingest.http import FEED_ACCEPT, Fetcher, FetchResult
from ingest.outcomes import PollOutcome, PollReport, is_soft_failure
from ingest.parse import ParsedFeed, parse_feed
from ingest.schedule import Schedule, after_failure, after_success
from schema import queries, writes
from schema.models import Article, ArticleState, Feed, FeedState, FetchLog
from schema.writes import dated_columns
from services.limits import WriteLimits, elapsed_ms, utc_now

#: Keys per ``IN (…)`` look-up: far below SQLite's and PostgreSQL's parameter limits.
_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class _Taken:
    """An entry to store: its article URL and key (decoded, for a Google News link)."""

    candidate: intake.Candidate
    url: str
    key: str


@dataclass
class _Plan:
    """What the poll found before writing: parsed, sorted out, aggregator links resolved."""

    body_hash: str
    unchanged: bool = False
    parsed: ParsedFeed | None = None
    parse_ms: int = 0
    selection: intake.Selection = field(default_factory=intake.Selection)
    taken: list[_Taken] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason → entries, decoding included


@dataclass
class FeedPoller:
    """Feed polling over one database and HTTP client.

    ``decoder`` turns Google News article links into the publishers' URLs; by default
    ``googlenewsdecoder`` when ``limits.decode_google_news`` is on, none (skip them) when off.
    """

    sessions: sessionmaker[Session]
    fetcher: Fetcher
    limits: WriteLimits = field(default_factory=WriteLimits)
    clock: Callable[[], datetime] = utc_now
    decoder: LinkDecoder | None = None

    def __post_init__(self) -> None:
        if self.decoder is None and self.limits.decode_google_news:
            self.decoder = GoogleNewsDecoder(timeout=self.limits.decode_timeout_s)

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
        plan = self._plan(feed_id, fetched)
        with self.sessions.begin() as session:
            feed = session.get_one(Feed, feed_id)
            report = self._apply_poll(session, feed, fetched, plan, now)
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

    def _plan(self, feed_id: int, fetched: FetchResult) -> _Plan | None:
        """Parse a new body and sort out its entries (reads only; may ask Google to decode)."""
        if fetched.not_modified or not fetched.ok:
            return None
        plan = _Plan(body_hash=hashlib.sha256(fetched.content).hexdigest())
        with self.sessions() as session:
            if plan.body_hash == session.get_one(Feed, feed_id).body_hash:
                plan.unchanged = True  # the server ignored conditional GET, the body is the same
                return plan
            parse_started = time.perf_counter()
            plan.parsed = parse_feed(fetched.content, fetched.final_url, fetched.content_type)
            plan.parse_ms = int(elapsed_ms(parse_started))
            if plan.parsed.error:
                return plan
            found = intake.candidates(plan.parsed.entries)
            plan.selection = intake.select(
                found,
                known_keys=_stored_keys(session, [c.key for c in found if c.key]),
                known_entry_ids=_stored_entry_ids(session, feed_id, found),
                cap=self.limits.max_entries_per_poll,
                decoding=self.decoder is not None,
            )
        plan.taken, plan.skipped = self._resolve(plan.selection)
        return plan

    def _resolve(self, selection: intake.Selection) -> tuple[list[_Taken], Counter[str]]:
        """The article URL of each entry taken, Google News links decoded; and what was skipped."""
        taken = [_Taken(c, c.url, c.key) for c in selection.take if c.url and c.key]
        skipped = Counter(selection.skipped)
        undecoded = [c for c in selection.take if c.link.kind is LinkKind.NEEDS_DECODING]
        if not undecoded or self.decoder is None:
            return taken, skipped
        try:
            results = self.decoder([c.entry.link for c in undecoded])
        except DecodeError as exc:
            skipped[f"Google News link not decoded: {exc}"] += len(undecoded)
            return taken, skipped
        for candidate, result in zip(undecoded, results, strict=True):
            if result.url is None:
                skipped[f"Google News link not decoded: {result.error}"] += 1
            else:
                taken.append(_Taken(candidate, result.url, canonical_url(result.url)))
        return taken, skipped

    def _apply_poll(
        self, session: Session, feed: Feed, fetched: FetchResult, plan: _Plan | None, now: datetime
    ) -> PollReport:
        feed.last_polled_at = now
        schedule = Schedule(timedelta(seconds=feed.poll_interval_s), feed.failure_score, now)
        # HTTP caching headers set a floor on the interval, as the feed's own ttl does.
        fresh_minutes = math.ceil(fetched.fresh_for_s / 60) if fetched.fresh_for_s else None
        if fetched.not_modified:
            return self._succeeded(
                feed, schedule, now, PollOutcome.NOT_MODIFIED, seen_share=1.0, advertised=fresh_minutes
            )
        if not fetched.ok or plan is None:
            soft = is_soft_failure(fetched)
            reason = fetched.error or f"HTTP {fetched.status}"
            return self._failed(feed, schedule, now, reason, soft=soft, retry_after=fetched.retry_after)

        feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        if plan.unchanged:
            return self._succeeded(
                feed, schedule, now, PollOutcome.UNCHANGED, seen_share=1.0, advertised=fresh_minutes
            )
        parsed = plan.parsed
        assert parsed is not None  # a changed body is always parsed
        if parsed.error:
            # Forget the validators so the next poll gets the whole body again.
            feed.etag = feed.last_modified = None
            return self._failed(feed, schedule, now, parsed.error, soft=False, parse_ms=plan.parse_ms)

        selection = plan.selection
        if selection.complete:
            feed.body_hash = plan.body_hash
        else:
            # Entries are left for the next poll: it must get and parse this body again.
            feed.etag = feed.last_modified = feed.body_hash = None
        if parsed.title and not feed.title:
            feed.title = parsed.title[:500]
        rows: dict[str, dict[str, object]] = {}
        for taken in plan.taken:
            entry = taken.candidate.entry
            # The feed's date until the page says better (services.articles).
            dated = choose_published(first_seen=now, feed=entry.published or entry.updated, url=taken.url)
            rows.setdefault(
                taken.key,
                {
                    "canonical_url": taken.key,
                    "url": taken.url,
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
        # Seen: stored before this poll (set aside, or taken by another feed meanwhile); not
        # seen: stored now or left for later. Skipped links say nothing about the feed's pace.
        seen = selection.known + len(rows) - len(new_ids)
        unseen = len(new_ids) + selection.left
        seen_share = seen / (seen + unseen) if seen + unseen else 1.0
        advertised = max((m for m in (parsed.ttl_minutes, fresh_minutes) if m), default=None)
        report = self._succeeded(
            feed,
            schedule,
            now,
            PollOutcome.OK,
            seen_share=seen_share,
            advertised=advertised,
            backlog=not selection.complete,
        )
        problems = [p for p in (parsed.problem, intake.describe_skipped(plan.skipped)) if p]
        return replace(
            report,
            entries_seen=len(parsed.entries),
            new_article_ids=tuple(new_ids),
            entries_left=selection.left,
            entries_skipped=plan.skipped.total(),
            problem="; ".join(problems) or None,
            parse_ms=plan.parse_ms,
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
        backlog: bool = False,
    ) -> PollReport:
        nxt = after_success(
            schedule, now, seen_share=seen_share, advertised_minutes=advertised, backlog=backlog
        )
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


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _LOOKUP_CHUNK] for i in range(0, len(values), _LOOKUP_CHUNK)]


def _stored_keys(session: Session, keys: list[str]) -> set[str]:
    """The canonical URLs among ``keys`` already stored, by any feed (the unique key)."""
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(chunk))))
    return found


def _stored_entry_ids(session: Session, feed_id: int, found: list[intake.Candidate]) -> set[str]:
    """Entry ids of undecoded Google News links this feed already stored (no need to ask again)."""
    ids = [c.entry.entry_id for c in found if c.link.kind is LinkKind.NEEDS_DECODING and c.entry.entry_id]
    stored: set[str] = set()
    for chunk in _chunks(ids):
        query = select(Article.entry_id).where(Article.feed_id == feed_id, Article.entry_id.in_(chunk))
        stored.update(entry_id for entry_id in session.scalars(query) if entry_id)
    return stored
