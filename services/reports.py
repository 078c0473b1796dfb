"""Trend reports: the one entry point the CLI, the read API and the dashboard call.

Each function opens a read-only session, runs the queries written once in
``schema.queries.trends`` and hands the rows to the pure functions in ``reports/``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reports.history import LATEST, ClaimHistory, build_history, first_days, latest_from
from reports.top import TopLists, ranked
from reports.trends import Granularity, Timeline, align, build_timeline
from schema.queries.history import claim_days, first_events, latest_events
from schema.queries.trends import (
    CountFilter,
    claim_statements,
    cooccurring_entities,
    counts,
    entity_names,
    outlet_totals,
    rollup_totals,
)
from schema.rollup import CLAIM, ENTITY


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
    def utc_days(self) -> bool:
        """The buckets are whole UTC days (or weeks and months of them)."""
        return self.by != "hour" and self.tz == "UTC"


def trends(sessions: sessionmaker[Session], query: TrendQuery, *, on_theme_threshold: float) -> Timeline:
    """Counts per bucket for the query's period (widened to whole buckets) and filters, with
    zeros where nothing was stored."""
    query = query.aligned()
    with sessions() as session:
        rows = counts(
            session,
            query.where,
            utc_days=query.utc_days,
            per_key=False,
            on_theme_threshold=on_theme_threshold,
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


@dataclass(frozen=True)
class TopQuery:
    """What ``mediamon report top`` and ``/api/top`` ask: a period, outlets, and an entity
    whose companions to list."""

    since: datetime
    until: datetime
    sources: Sequence[str] = field(default_factory=tuple)
    entity_id: str | None = None
    limit: int = 10


def top(sessions: sessionmaker[Session], query: TopQuery) -> TopLists:
    """Top outlets, entities and claims over whole UTC days of the period (from the rollup)."""
    since, until = align(query.since, query.until, "day")
    where = CountFilter(since=since, until=until, sources=tuple(query.sources))
    with sessions() as session:
        per_source = outlet_totals(session, where)
        per_entity = {k[0]: n for k, n in rollup_totals(session, where, ENTITY, ["key"]).items()}
        claims = rollup_totals(session, where, CLAIM, ["key", "stance"])
        names, statements = entity_names(session), claim_statements(session)
        companions = (
            cooccurring_entities(session, where, query.entity_id, query.limit) if query.entity_id else {}
        )
    total = sum(per_source.values())
    per_claim: dict[str, int] = defaultdict(int)
    stances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (key, stance), n in claims.items():
        per_claim[key] += n
        stances[key][stance or "unknown"] += n
    return TopLists(
        since=since.isoformat(),
        until=until.isoformat(),
        total=total,
        sources=ranked(per_source, total=total, labels={}, limit=query.limit),
        entities=ranked(per_entity, total=total, labels=names, limit=query.limit),
        claims=ranked(
            per_claim,
            total=total,
            labels=statements,
            limit=query.limit,
            details={k: dict(v) for k, v in stances.items()},
        ),
        cooccurring=ranked(companions, total=total, labels=names, limit=query.limit),
        with_entity=query.entity_id,
    )


class UnknownClaim(LookupError):
    """No claim with that id in the store."""


def claim_history(sessions: sessionmaker[Session], claim_id: str, *, now: datetime) -> ClaimHistory:
    """The claim's stored articles by outlet and stance over time (UTC days, from the rollup),
    with each outlet's first article and the latest ``LATEST`` exactly."""
    with sessions() as session:
        statement = claim_statements(session).get(claim_id)
        if statement is None:
            raise UnknownClaim(claim_id)
        days = claim_days(session, claim_id)
        firsts = first_events(session, claim_id, first_days(days))
        latest = latest_events(session, claim_id, latest_from(days, LATEST), LATEST)
    return build_history(claim_id, statement, days, firsts, latest, now=now)
