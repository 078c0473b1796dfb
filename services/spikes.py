"""Spike reports: which entities and claims drew far more articles than usual, when, and why.

One read-only session: the counts per bucket (the daily or hourly rollup, or the rows themselves
where no rollup grain lines up, via ``schema.queries.trends.counts``), the test in ``reports.spikes``,
then, for the strongest spikes, what explains them (``schema.queries.spikes``). The CLI
(`mediamon report spikes`) calls this; the read API and the dashboard can call the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from reports.spikes import (
    KINDS,
    MIN_COUNT,
    Scan,
    Spike,
    SpikeExplanation,
    SpikeGranularity,
    SpikeKind,
    SpikeTest,
    scan,
    series_from_rows,
)
from reports.trends import CountRow, align, bucket_starts, floor, step
from schema.queries.spikes import first_stored_at, spike_entities, spike_sources, spike_stories
from schema.queries.trends import (
    CountFilter,
    claim_statements,
    counts,
    entity_names,
)
from schema.rollup import CLAIM, ENTITY
from services.limits import utc_now

#: Hourly reports test only the last 48 hours (older hours are the daily report's business).
HOURLY_SPAN = timedelta(hours=48)
#: Default test period.
DEFAULT_SPAN = timedelta(days=30)


@dataclass(frozen=True)
class SpikeQuery:
    """What `mediamon report spikes` asks. Times are UTC; ``None`` means the default: the test
    period ends at ``now`` and starts 30 days earlier (hourly: 48 hours earlier at most)."""

    since: datetime | None = None
    until: datetime | None = None
    granularity: SpikeGranularity = "day"
    sensitivity: str | float = "normal"
    min_count: int = MIN_COUNT
    kinds: Sequence[SpikeKind] = KINDS
    entity_ids: Sequence[str] = field(default_factory=tuple)
    claim_ids: Sequence[str] = field(default_factory=tuple)
    tz: str = "UTC"
    explain: int = 20  # the strongest spikes that get an explanation
    now: datetime | None = None  # the clock (tests pass one)

    @property
    def test(self) -> SpikeTest:
        return SpikeTest(granularity=self.granularity, sensitivity=self.sensitivity, min_count=self.min_count)


@dataclass(frozen=True)
class ExplainedSpike:
    spike: Spike
    label: str  # the entity's name or the claim's statement
    explanation: SpikeExplanation | None = None

    def to_json(self) -> dict[str, object]:
        record = self.spike.to_json()
        record["label"] = self.label
        record["explanation"] = self.explanation.to_json() if self.explanation else None
        return record


@dataclass(frozen=True)
class SpikeReport:
    """The spikes (strongest first) and what was tested: ``series_tested`` keys with any
    article in the period read, each in ``buckets_tested`` buckets."""

    since: datetime  # first tested bucket's start (in ``tz``)
    until: datetime  # end of the last tested bucket
    granularity: SpikeGranularity
    tz: str
    spikes: list[ExplainedSpike]
    series_tested: int
    buckets_tested: int
    budget: float
    threshold: float

    @property
    def tests(self) -> int:
        return self.series_tested * self.buckets_tested

    def to_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "granularity": self.granularity,
            "tz": self.tz,
            "series_tested": self.series_tested,
            "buckets_tested": self.buckets_tested,
            "false_alarm_budget": self.budget,
            "p_threshold": float(f"{self.threshold:.4g}"),
            "spikes": [s.to_json() for s in self.spikes],
        }


def spikes(sessions: sessionmaker[Session], query: SpikeQuery) -> SpikeReport:
    """Test the query's period for spikes and explain the strongest ``query.explain``."""
    test = query.test
    budget = test.budget  # a bad sensitivity fails here, before any query
    tested_from, end = _tested_period(query)
    zone = ZoneInfo(query.tz)
    with sessions() as session:
        first = first_stored_at(session)
        if first is None:
            return _report(query, tested_from, end, Scan([], 0, 0, budget, budget), [])
        history = _history_start(tested_from, query.granularity, test.window + test.gap, zone)
        start = max(history, floor(first, query.granularity, zone))
        starts = bucket_starts(start, end, query.granularity, query.tz)
        rows = _counts(session, query, start, end)
        found = scan(
            series_from_rows(rows, starts, by=query.granularity, tz=query.tz),
            starts,
            tested_from=tested_from,
            test=test,
        )
        labels = {ENTITY: entity_names(session), CLAIM: claim_statements(session)}
        explained = []
        for rank, spike in enumerate(found.spikes):
            explanation = _explain(session, spike, zone) if rank < query.explain else None
            label = labels[spike.kind].get(spike.key, spike.key)
            explained.append(ExplainedSpike(spike, label, explanation))
    return _report(query, tested_from, end, found, explained)


def _report(
    query: SpikeQuery, since: datetime, until: datetime, found: Scan, explained: list[ExplainedSpike]
) -> SpikeReport:
    return SpikeReport(
        since=since,
        until=until,
        granularity=query.granularity,
        tz=query.tz,
        spikes=explained,
        series_tested=found.series_tested,
        buckets_tested=found.buckets_tested,
        budget=found.budget,
        threshold=found.threshold,
    )


def _tested_period(query: SpikeQuery) -> tuple[datetime, datetime]:
    """The whole buckets tested: ``since`` … ``until`` widened to buckets (hourly: no more
    than the last 48 hours before ``until``)."""
    until = query.until or query.now or utc_now()
    since = query.since or until - DEFAULT_SPAN
    if query.granularity == "hour":
        since = max(since, until - HOURLY_SPAN)
    return align(since, until, query.granularity, query.tz)


def _history_start(tested_from: datetime, by: SpikeGranularity, buckets: int, zone: ZoneInfo) -> datetime:
    """The start of the bucket ``buckets`` before ``tested_from`` (wall-clock days in ``zone``)."""
    if by == "hour":
        return (tested_from.astimezone(UTC) - timedelta(hours=buckets)).astimezone(zone)
    day = tested_from.astimezone(zone).date() - timedelta(days=buckets)
    return datetime.combine(day, time(), tzinfo=zone)


def _counts(session: Session, query: SpikeQuery, since: datetime, until: datetime) -> list[CountRow]:
    """Entity and claim counts in ``[since, until)``, from the cheapest exact source (the daily
    or hourly rollup, else the stored rows at their exact time)."""
    kinds = [kind for kind in (ENTITY, CLAIM) if kind in query.kinds]
    where = CountFilter(
        since=since.astimezone(UTC),
        until=until.astimezone(UTC),
        entity_ids=tuple(query.entity_ids),
        claim_ids=tuple(query.claim_ids),
    )
    utc_days = query.granularity == "day" and query.tz == "UTC"
    return counts(session, where, utc_days=utc_days, kinds=kinds, per_stance=False)


def _explain(session: Session, spike: Spike, zone: ZoneInfo) -> SpikeExplanation:
    start = spike.start
    end = step(start, spike.granularity, zone)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    return SpikeExplanation(
        sources=spike_sources(session, spike.kind, spike.key, start_utc, end_utc),
        entities=spike_entities(session, spike.kind, spike.key, start_utc, end_utc),
        stories=spike_stories(session, spike.kind, spike.key, start_utc, end_utc),
    )
