"""Trend reports: the one entry point the CLI, the read API and the dashboard call.

Each function opens a read-only session, runs the queries written once in
``schema.queries.trends`` and hands the rows to the pure functions in ``reports/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reports.trends import Granularity, Timeline, align, build_timeline
from schema.queries.trends import CountFilter, article_counts, rollup_counts


@dataclass(frozen=True)
class TrendQuery:
    """What ``mediamon report trends`` and ``/api/trends`` ask (times in UTC)."""

    since: datetime
    until: datetime
    by: Granularity = "day"
    tz: str = "UTC"
    entity_ids: Sequence[str] = field(default_factory=tuple)
    claim_ids: Sequence[str] = field(default_factory=tuple)
    stances: Sequence[str] = field(default_factory=tuple)
    sources: Sequence[str] = field(default_factory=tuple)
    normalize: bool = False

    def aligned(self) -> TrendQuery:
        """The same query over whole buckets (see :func:`reports.trends.align`)."""
        since, until = align(self.since, self.until, self.by, self.tz)
        return replace(self, since=since, until=until)

    @property
    def where(self) -> CountFilter:
        return CountFilter(
            since=self.since,
            until=self.until,
            entity_ids=tuple(self.entity_ids),
            claim_ids=tuple(self.claim_ids),
            stances=tuple(self.stances),
            sources=tuple(self.sources),
        )

    @property
    def uses_rollup(self) -> bool:
        """Whole UTC days line up with the rollup's days; hours and other zones need the rows.
        A period that starts or ends inside a UTC day is read from the rows too."""
        whole_days = all(
            t.hour == t.minute == t.second == t.microsecond == 0 for t in (self.since, self.until)
        )
        return self.by != "hour" and self.tz == "UTC" and whole_days


def trends(sessions: sessionmaker[Session], query: TrendQuery, *, on_theme_threshold: float) -> Timeline:
    """Counts per bucket for the query's period (widened to whole buckets) and filters, with
    zeros where nothing was stored."""
    query = query.aligned()
    with sessions() as session:
        rows = (
            rollup_counts(session, query.where) if query.uses_rollup else article_counts(session, query.where)
        )
    return build_timeline(
        rows,
        since=query.since,
        until=query.until,
        by=query.by,
        tz=query.tz,
        on_theme_threshold=on_theme_threshold,
        entity_ids=tuple(query.entity_ids),
        normalize=query.normalize,
    )
