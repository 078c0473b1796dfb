"""How each unit of work ends: one feed poll, one article, one one-shot run.

Every fetch and every article ends in an explicit outcome (an enum, never a bare string), and
the reports are plain records, so the CLI, the Celery tasks and the benchmark read results
without touching the database. The store keeps :class:`PollOutcome` in the fetch log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ingest.http import FetchResult

#: Live feeds and sites do return these and come back: a soft failure, retried later.
SOFT_HTTP_STATUSES = frozenset({404, 408, 425, 429, 500, 502, 503, 504})


def is_soft_failure(fetched: FetchResult) -> bool:
    """A failed download worth trying again later: network trouble, a host whose politeness
    slot stayed busy, or a soft status."""
    return fetched.error_kind in ("network", "host_busy") or fetched.status in SOFT_HTTP_STATUSES


class PollOutcome(enum.StrEnum):
    """How one poll of a feed ended (Media Cloud's SUCC/NOUPD/SOFT/HARD, spelled out)."""

    OK = "ok"  # parsed, entries taken
    NOT_MODIFIED = "not_modified"  # 304: nothing parsed
    UNCHANGED = "unchanged"  # 200 but the same body as last time: nothing parsed
    SOFT_FAILURE = "soft_failure"  # 404/429/5xx/timeouts/host busy: live feeds do come back
    HARD_FAILURE = "hard_failure"  # refused target, not a feed, no entries, 4xx other than 404/429


class ArticleOutcome(enum.StrEnum):
    """How one step on one article ended."""

    DONE = "done"  # cleaned, matched, stored
    DUPLICATE = "duplicate"  # same content as an article already stored
    FAILED = "failed"  # could not be fetched or extracted; the report's error says why
    RETRY = "retry"  # a soft download failure: back to pending for another attempt
    FETCHED = "fetched"  # (service) page downloaded and staged for extraction
    SKIPPED = "skipped"  # nothing to do: gone, or already moved on (a redelivered task)


@dataclass(frozen=True)
class PollReport:
    feed_id: int
    url: str
    outcome: PollOutcome
    entries_seen: int = 0
    new_article_ids: tuple[int, ...] = ()
    entries_left: int = 0  # new entries beyond the per-poll cap: the next poll takes them
    entries_skipped: int = 0  # aggregator links with no article behind them (``problem`` says why)
    error: str | None = None
    problem: str | None = None
    fetch_ms: int = 0
    parse_ms: int = 0
    store_ms: int = 0

    @property
    def failed(self) -> bool:
        return self.outcome in (PollOutcome.SOFT_FAILURE, PollOutcome.HARD_FAILURE)


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
    entries_left: int = 0  # for the next poll of their feeds (the per-poll cap)
    entries_skipped: int = 0
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
        self.entries_left += report.entries_left
        self.entries_skipped += report.entries_skipped
        if report.outcome in (PollOutcome.NOT_MODIFIED, PollOutcome.UNCHANGED):
            self.feeds_not_modified += 1
        if report.failed:
            self.feeds_failed += 1
            self.feed_errors.append((report.url, report.error or report.outcome.value))

    def add_article(self, report: ArticleReport) -> None:
        if report.outcome is ArticleOutcome.DONE:
            self.articles_done += 1
            self.claim_matches += report.claim_matches
            self.mentions += report.mentions
        elif report.outcome is ArticleOutcome.DUPLICATE:
            self.articles_duplicate += 1
        elif report.outcome is ArticleOutcome.FAILED:
            self.articles_failed += 1
            self.article_errors.append((report.article_id, report.error or "failed"))
        elif report.outcome is ArticleOutcome.RETRY:
            self.articles_retry += 1
