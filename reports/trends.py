"""Timelines: counts per time bucket, every bucket present (a bucket with nothing is a zero).

Pure functions over :class:`CountRow` records the store returns (``schema.queries.trends``):
they know nothing of SQL. Buckets are in the report's time zone (UTC unless asked), labelled
by their start. A week starts on Monday; a month on its first day.

Rows per timeline (each a :class:`Series`):

- ``articles``: stored articles (the denominator of ``--normalize``),
- ``on_theme``: stored articles at or above the relevance threshold,
- ``entity:ID``: articles mentioning the entity (``entity mentions``, all entities, when
  no entity was asked for),
- ``claims:STANCE``: articles matching the chosen claims (all claims if none) with that stance.

With ``normalize`` each series also carries its share of all articles stored in the bucket,
Media Cloud's "attention" measure (count, total and ratio).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

Granularity = Literal["hour", "day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("hour", "day", "week", "month")
STANCES = ("asserts", "reports", "denies")
#: Sparkline glyphs, lowest to highest.
_SPARKS = "▁▂▃▄▅▆▇█"


class CountRow(NamedTuple):
    """``n`` stored articles counted under (kind, key, stance) at time ``at`` (UTC). A named
    tuple: a week of hourly counters is tens of thousands of them, built in 0.8 µs each rather
    than a frozen dataclass's 2 µs."""

    kind: str  # "articles" (key: relevance band), "entity" (key: entity id) or "claim" (key: claim id)
    key: str
    stance: str
    at: datetime
    n: int


@dataclass(frozen=True)
class Series:
    name: str
    counts: list[int]
    ratios: list[float] | None = None  # share of all articles stored, with ``normalize``

    @property
    def total(self) -> int:
        return sum(self.counts)

    def sparkline(self) -> str:
        return sparkline(self.counts)


@dataclass(frozen=True)
class Timeline:
    by: Granularity
    tz: str
    buckets: list[datetime]  # bucket starts, in ``tz``
    totals: list[int]  # all articles stored per bucket (the normalisation denominator)
    series: list[Series] = field(default_factory=list)
    normalized: bool = False

    def as_records(self) -> list[dict[str, object]]:
        """One record per (bucket, series): the CSV/JSON shape (count, total and ratio)."""
        records: list[dict[str, object]] = []
        for series in self.series:
            for i, start in enumerate(self.buckets):
                record: dict[str, object] = {
                    "bucket": start.isoformat(),
                    "series": series.name,
                    "count": series.counts[i],
                    "total": self.totals[i],
                }
                if series.ratios is not None:
                    record["ratio"] = round(series.ratios[i], 6)
                records.append(record)
        return records


def floor(moment: datetime, by: Granularity, tz: ZoneInfo) -> datetime:
    """The start of the bucket ``moment`` falls in, in ``tz``."""
    local = moment.astimezone(tz)
    if by == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if by == "day":
        return _normalise(day, tz)
    if by == "week":
        return _normalise(day - timedelta(days=day.weekday()), tz)
    return _normalise(day.replace(day=1), tz)


def _normalise(local: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock midnight in ``tz`` with the offset that applies on that day (DST)."""
    return datetime(local.year, local.month, local.day, tzinfo=tz)


def step(start: datetime, by: Granularity, tz: ZoneInfo) -> datetime:
    """The start of the bucket after the one starting at ``start``."""
    if by == "hour":
        return (start.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(tz)
    if by == "day":
        return _normalise(start + timedelta(days=1, hours=12), tz)
    if by == "week":
        return _normalise(start + timedelta(days=7, hours=12), tz)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return datetime(year, month, 1, tzinfo=tz)


def align(since: datetime, until: datetime, by: Granularity, tz: str = "UTC") -> tuple[datetime, datetime]:
    """The period widened to whole buckets: from the start of ``since``'s bucket to the end
    of ``until``'s (so "the last 30 days" by day is 31 whole days, today included)."""
    zone = ZoneInfo(tz)
    start, end = floor(since, by, zone), floor(until, by, zone)
    if end < until:
        end = step(end, by, zone)
    return start, end


def bucket_starts(since: datetime, until: datetime, by: Granularity, tz: str = "UTC") -> list[datetime]:
    """Every bucket from the one holding ``since`` to the one holding ``until`` (exclusive end)."""
    zone = ZoneInfo(tz)
    starts, current = [], floor(since, by, zone)
    while current < until:
        starts.append(current)
        current = step(current, by, zone)
    return starts


def build_timeline(
    rows: Iterable[CountRow],
    *,
    since: datetime,
    until: datetime,
    by: Granularity,
    tz: str = "UTC",
    on_theme_threshold: float,
    entity_ids: Sequence[str] = (),
    normalize: bool = False,
) -> Timeline:
    """Sum ``rows`` into buckets; see the module docstring for the series."""
    zone = ZoneInfo(tz)
    starts = bucket_starts(since, until, by, tz)
    index = {start: i for i, start in enumerate(starts)}
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    totals = [0] * len(starts)
    bucket_of: dict[datetime, int | None] = {}  # rows share their times: floor each once
    for row in rows:
        if not since <= row.at < until:
            continue
        if row.at not in bucket_of:
            bucket_of[row.at] = index.get(floor(row.at, by, zone))
        i = bucket_of[row.at]
        if i is None:
            continue
        if row.kind == "articles":
            totals[i] += row.n
            if on_theme(row.key, on_theme_threshold):
                sums["on_theme"][i] += row.n
        elif row.kind == "entity":
            sums[f"entity:{row.key}" if entity_ids else "entity mentions"][i] += row.n
        elif row.kind == "claim":
            sums[f"claims:{row.stance or 'unknown'}"][i] += row.n
    names = ["on_theme"]
    names += [f"entity:{e}" for e in entity_ids] if entity_ids else ["entity mentions"]
    names += [f"claims:{s}" for s in STANCES]
    names += sorted(n for n in sums if n.startswith("claims:") and n not in names)
    series = [Series("articles", totals, _ratios(totals, totals) if normalize else None)]
    for name in names:
        counts = sums[name] if name in sums else [0] * len(starts)
        series.append(Series(name, counts, _ratios(counts, totals) if normalize else None))
    return Timeline(by=by, tz=tz, buckets=starts, totals=totals, series=series, normalized=normalize)


@cache
def on_theme(band: str, threshold: float) -> bool:
    """Whether articles in relevance ``band`` (its lower bound, or "none") pass ``threshold``."""
    return band != "none" and float(band) >= threshold - 1e-9


def _ratios(counts: Sequence[int], totals: Sequence[int]) -> list[float]:
    return [c / t if t else 0.0 for c, t in zip(counts, totals, strict=True)]


def sparkline(values: Sequence[float]) -> str:
    """A one-line chart; all zeros draw as the lowest glyph."""
    top = max(values, default=0)
    if top <= 0:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[min(int(v / top * (len(_SPARKS) - 1) + 0.5), len(_SPARKS) - 1)] for v in values)
