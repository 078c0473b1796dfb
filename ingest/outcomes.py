"""What the pipeline's units of work report: one feed poll, one article, one one-shot run.

Plain records, so the CLI, the Celery tasks and the benchmark read results without touching
the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from schema.models import PollOutcome


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


ArticleOutcome = Literal["done", "duplicate", "failed", "retry", "fetched", "skipped"]


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
