"""Spikes: the buckets where an entity or a claim drew far more articles than its recent past.

Each bucket (a day, or an hour for the last 48 hours) of each series (the articles mentioning
one entity, or matching one claim) is tested against a **rolling baseline** of the buckets
before it, never the bucket itself.

Why not a Gaussian z-score (or Prophet's Gaussian band, which DESIGN.md records raising many
false alarms on sparse counts): these counts are mostly 0, 1 or 2 a day and skewed. A normal
band around a mean of 0.3 with a standard deviation of 0.5 puts 3 articles five deviations out,
and a series silent for weeks has a deviation of zero, so its next article is "infinitely"
unusual. On simulated steady noise a z-score held to the same thresholds raises dozens of
false alarms where this test raises almost none (tests/reports/test_spikes.py). The tail
probability comes from a count distribution instead:

- the baseline's mean and variance are estimated from its buckets (method of moments);
- when the variance exceeds the mean (news comes in clumps: one event, several articles the
  same day; a weekly or day/night rhythm), the count is modelled as **negative binomial** with
  that mean and variance, whose heavier tail makes clumpy series harder to flag; otherwise as
  **Poisson**;
- 28 buckets say little about how clumpy a series is, so the dispersion is never below the
  **pooled dispersion** of the report (see :func:`scan`);
- the mean is never below :data:`MEAN_FLOOR` (0.1 a bucket), a prior belief that any key may
  turn up now and then: a silent baseline expects a little, not nothing;
- the p-value is the upper tail ``P(X >= observed)`` (``scipy.stats``).

A bucket is a **spike** when ``observed >= min_count`` (3 by default: one or two articles are
never a spike, whatever the baseline) **and** its p-value is below the per-test threshold.

Sensitivity and many tests. A report tests every series in every bucket: 80 keys over 30 days
are 2,400 tests, and a per-test level of 1e-3 would flag a couple of buckets of pure noise in
every report. So the sensitivity names a budget of false alarms **per report** (``low`` 0.01,
``normal`` 0.05, ``high`` 0.25; a number sets it directly), and each test is held to the
budget divided by the number of tests (Bonferroni: it bounds the expected number of false
alarms by the budget without assuming the tests independent, which the series of one report
are not). The budget holds exactly only if the baseline were known; it is estimated from 28
buckets, so on simulated steady noise (tests/reports/test_spikes.py: twelve reports of 200
series × 60 days) the false alarms measured at low, normal and high are 0, 1 and 6, against
budgets adding up to 0.12, 0.6 and 3, while 91%, 98% and 99% of planted bursts are found.

Windows. The baseline is the 28 days (four whole weeks, so each weekday weighs the same, and
a drift older than a month is forgotten) or 7 × 24 hours (a whole week: each hour of the day
seven times; the day/night rhythm shows as overdispersion and widens the tail instead of
flagging every morning) that end a **guard** of 2 days or 3 hours before the tested bucket.
The guard keeps a story's first days out of the baseline of its peak: coverage of an event
builds (2, 6, then 16 articles a day), and without it the first days' rise would inflate the
variance the peak is judged by (the guard of the CDC's EARS C2 method and of radar CFAR
detectors). A bucket is tested only with at least :data:`MIN_BASELINE` buckets of history
before the guard: the caller starts the series at the store's first article (the buckets
before it are unknown, not zero), so a new store's first articles are not spikes.

Known limits: a spike stays in the baselines after it, so a lasting rise is flagged on its
first days and then becomes the new normal; a story spread evenly over a day is a daily spike,
not an hourly one (hours find bursts within a few hours, such as the drone strikes of the night
of 8 May 2025 in the corpus); the pooled dispersion couples the series of one report (asking
for one entity alone may give it a slightly different threshold and tail).
"""

from __future__ import annotations

import math
from bisect import insort
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from reports.trends import CountRow, floor

SpikeKind = Literal["entity", "claim"]
SpikeGranularity = Literal["day", "hour"]

KINDS: tuple[SpikeKind, ...] = ("entity", "claim")
#: Expected false alarms per report on steady noise (the Bonferroni budget) per sensitivity.
SENSITIVITY_BUDGET: dict[str, float] = {"low": 0.01, "normal": 0.05, "high": 0.25}
#: Baseline buckets before each tested bucket.
BASELINE: dict[SpikeGranularity, int] = {"day": 28, "hour": 7 * 24}
#: Fewest baseline buckets a test needs.
MIN_BASELINE: dict[SpikeGranularity, int] = {"day": 7, "hour": 24}
#: Buckets left out between the baseline and the tested bucket (a story's first days).
GUARD: dict[SpikeGranularity, int] = {"day": 2, "hour": 3}
#: Smallest expected count per bucket (the prior: any key may turn up now and then).
MEAN_FLOOR = 0.1
#: Fewest articles in a bucket that can make a spike.
MIN_COUNT = 3
#: Largest dispersion one window brings to the pool (a geometric spread, r = 1): a window of a
#: few articles can show any dispersion (its excess variance is divided by a tiny squared mean),
#: and hours of a batchy outlet (a newspaper's morning edition) must not make every sparse
#: series' tail enormous.
POOL_MAX_DISPERSION = 1.0


class SensitivityError(ValueError):
    """A sensitivity that is neither low, normal, high nor a number in (0, 1]."""


def budget_for(sensitivity: str | float) -> float:
    """The false-alarm budget per report for ``sensitivity`` (a name or a number)."""
    if isinstance(sensitivity, str):
        name = sensitivity.strip().lower()
        if name in SENSITIVITY_BUDGET:
            return SENSITIVITY_BUDGET[name]
        try:
            sensitivity = float(name)
        except ValueError as exc:
            raise SensitivityError(
                f"sensitivity {sensitivity!r} is neither low, normal, high nor a number like 0.05"
            ) from exc
    if not 0 < sensitivity <= 1 or math.isnan(sensitivity):
        raise SensitivityError(f"a sensitivity number must lie in (0, 1], got {sensitivity}")
    return float(sensitivity)


@dataclass(frozen=True)
class CountSeries:
    """One key's article counts, one per bucket of the scan (same length as its ``starts``)."""

    kind: SpikeKind
    key: str
    counts: Sequence[int]


@dataclass(frozen=True)
class Baseline:
    """What the buckets before a tested bucket lead one to expect: the mean (at least
    :data:`MEAN_FLOOR`) and the variance used for the tail (see :func:`scan`)."""

    mean: float
    variance: float

    @property
    def overdispersed(self) -> bool:
        return self.variance > self.mean

    @property
    def model(self) -> str:
        return "negative binomial" if self.overdispersed else "poisson"

    def tail(self, observed: int) -> float:
        """``P(X >= observed)`` under the baseline's Poisson or negative binomial."""
        return tails([observed], [self.mean], [self.variance])[0]


def tails(observed: Sequence[int], means: Sequence[float], variances: Sequence[float]) -> list[float]:
    """``P(X >= observed)`` for each (observed, mean, variance): negative binomial where the
    variance exceeds the mean, else Poisson (one vectorised call for a whole bucket)."""
    # Imported here: scipy.stats takes about half a second to load, and every `mediamon`
    # command imports this module (through the CLI's command list), most without testing.
    from scipy import stats  # type: ignore[import-untyped]

    k = np.asarray(observed, dtype=float)
    m = np.asarray(means, dtype=float)
    v = np.asarray(variances, dtype=float)
    over = v > m
    # Method of moments: mean m, variance v = m + m²/r, so r = m²/(v - m), p = r/(r + m).
    r = np.where(over, m**2 / np.where(over, v - m, 1.0), 1.0)
    p = np.where(over, stats.nbinom.sf(k - 1, r, r / (r + m)), stats.poisson.sf(k - 1, m))
    return [1.0 if o <= 0 else float(x) for o, x in zip(observed, p, strict=True)]


def dispersion(mean: float, variance: float) -> float:
    """The negative binomial's ``phi`` (variance = mean + phi × mean²) by the method of
    moments, 0 when the counts are no more spread than a Poisson's."""
    mean = max(mean, MEAN_FLOOR)
    return max(variance - mean, 0.0) / mean**2


def fitted(mean: float, variance: float, floor_dispersion: float = 0.0) -> Baseline:
    """A baseline with this sample mean and variance: the mean raised to :data:`MEAN_FLOOR`,
    the variance to at least that of a negative binomial with ``floor_dispersion``."""
    mean = max(mean, MEAN_FLOOR)
    return Baseline(mean=mean, variance=max(variance, mean + floor_dispersion * mean**2))


@dataclass(frozen=True)
class Spike:
    """One bucket of one series well above its baseline."""

    kind: SpikeKind
    key: str
    start: datetime  # the bucket's start, in the report's time zone
    granularity: SpikeGranularity
    observed: int
    expected: float  # the baseline mean (floored)
    p_value: float
    baseline_variance: float = 0.0
    model: str = "poisson"  # or "negative binomial"

    @property
    def ratio(self) -> float:
        return self.observed / self.expected

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "key": self.key,
            "bucket": self.start.isoformat(),
            "granularity": self.granularity,
            "observed": self.observed,
            "expected": round(self.expected, 4),
            "ratio": round(self.ratio, 3),
            "p_value": float(f"{self.p_value:.4g}"),
            "model": self.model,
        }


@dataclass(frozen=True)
class SpikeTest:
    """How to test: bucket size, sensitivity, the smallest count that can be a spike, and the
    baseline length (``None``: :data:`BASELINE` for the bucket size)."""

    granularity: SpikeGranularity = "day"
    sensitivity: str | float = "normal"
    min_count: int = MIN_COUNT
    baseline: int | None = None
    min_baseline: int | None = None
    guard: int | None = None

    @property
    def window(self) -> int:
        return self.baseline or BASELINE[self.granularity]

    @property
    def gap(self) -> int:
        return GUARD[self.granularity] if self.guard is None else self.guard

    @property
    def least_history(self) -> int:
        """Buckets that must lie before a tested bucket: the guard and the smallest baseline."""
        return self.gap + min(self.min_baseline or MIN_BASELINE[self.granularity], self.window)

    @property
    def budget(self) -> float:
        return budget_for(self.sensitivity)


@dataclass(frozen=True)
class Scan:
    """The spikes of one report (strongest first) and what was tested to find them."""

    spikes: list[Spike]
    series_tested: int
    buckets_tested: int  # per series
    budget: float  # false alarms allowed per report
    threshold: float  # the per-test p-value threshold (budget / tests)

    @property
    def tests(self) -> int:
        return self.series_tested * self.buckets_tested


def tested_buckets(starts: Sequence[datetime], tested_from: datetime, least_history: int) -> range:
    """The indexes of ``starts`` to test: from ``tested_from`` on, and only with enough history."""
    first = next((i for i, s in enumerate(starts) if s >= tested_from), len(starts))
    return range(max(first, least_history), len(starts))


def scan(
    series: Iterable[CountSeries], starts: Sequence[datetime], *, tested_from: datetime, test: SpikeTest
) -> Scan:
    """Test every series in every bucket from ``tested_from`` on against its rolling baseline.

    ``starts`` are the bucket starts, from the earliest baseline bucket (or the store's first
    article, if later) to the last tested bucket; each series has one count per start.

    The dispersion of each baseline is at least the **pooled dispersion**: the median of the
    method-of-moments dispersions (each at most :data:`POOL_MAX_DISPERSION`) of every baseline
    window tested so far (up to and including this bucket, in every series of the scan with any
    article in its window). 28 buckets say
    little about how clumpy a series is: clumpy counts that happen to look calm for a month
    would be read as Poisson, and their next ordinary clump taken for a spike. The series of one
    report share the clumpiness of the news, so the median of their windows is a steadier
    estimate (as RNA-seq tools share dispersion across genes); a series clumpier than the median
    keeps its own larger dispersion. On the simulated noise of tests/reports/test_spikes.py
    pooling cuts the false alarms at normal sensitivity from 13 to 1 in 144,000 buckets and
    finds as many planted bursts. Only windows up to the tested bucket count, so a burst does
    not lessen the chance of finding itself.
    """
    all_series = list(series)
    for one in all_series:
        if len(one.counts) != len(starts):
            raise ValueError(f"{one.kind} {one.key}: {len(one.counts)} counts for {len(starts)} buckets")
    indexes = tested_buckets(starts, tested_from, test.least_history)
    tests = len(all_series) * len(indexes)
    budget = test.budget
    threshold = budget / tests if tests else budget
    windows = [_windows(one.counts, indexes, test.window, test.gap) for one in all_series]
    pooled: list[float] = []  # sorted dispersions of the windows seen so far
    found: list[Spike] = []
    for position, i in enumerate(indexes):
        for stats_of in windows:
            mean, variance = stats_of[position]
            if mean > 0:
                insort(pooled, min(dispersion(mean, variance), POOL_MAX_DISPERSION))
        floor_dispersion = _median(pooled)
        candidates: list[tuple[CountSeries, Baseline, int]] = []
        for one, stats_of in zip(all_series, windows, strict=True):
            observed = int(one.counts[i])
            past = fitted(*stats_of[position], floor_dispersion)
            if observed >= test.min_count and observed > past.mean:
                candidates.append((one, past, observed))
        p_values = tails(
            [c[2] for c in candidates], [c[1].mean for c in candidates], [c[1].variance for c in candidates]
        )
        for (one, past, observed), p in zip(candidates, p_values, strict=True):
            if p < threshold:
                found.append(
                    Spike(
                        kind=one.kind,
                        key=one.key,
                        start=starts[i],
                        granularity=test.granularity,
                        observed=observed,
                        expected=past.mean,
                        p_value=p,
                        baseline_variance=past.variance,
                        model=past.model,
                    )
                )
    found.sort(key=lambda s: (s.p_value, -s.ratio, -s.observed, s.kind, s.key, s.start))
    return Scan(found, len(all_series), len(indexes), budget, threshold)


def _median(ordered: Sequence[float]) -> float:
    """The median of an already sorted sequence (0 when empty)."""
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _windows(counts: Sequence[int], indexes: range, window: int, gap: int) -> list[tuple[float, float]]:
    """The raw mean and sample variance of the ``window`` buckets that end ``gap`` buckets
    before each of ``indexes`` (fewer at the start of the series), from running sums."""
    values = np.asarray(counts, dtype=np.int64)
    sums = np.concatenate(([0], np.cumsum(values)))
    squares = np.concatenate(([0], np.cumsum(values * values)))
    hi = np.maximum(np.arange(indexes.start, indexes.stop, dtype=np.int64) - gap, 0)
    lo = np.maximum(hi - window, 0)
    size = hi - lo
    total, total_sq = sums[hi] - sums[lo], squares[hi] - squares[lo]
    mean = np.divide(total, size, out=np.zeros(len(size)), where=size > 0)
    variance = np.divide(total_sq - size * mean**2, size - 1, out=np.zeros(len(size)), where=size > 1)
    return list(zip(mean.tolist(), np.maximum(variance, 0.0).tolist(), strict=True))


def series_from_rows(
    rows: Iterable[CountRow], starts: Sequence[datetime], *, by: SpikeGranularity, tz: str = "UTC"
) -> list[CountSeries]:
    """Sum entity and claim :class:`CountRow` records (any stance) into one series per key,
    over the buckets ``starts``; rows outside them, and article totals, are left out."""
    zone = ZoneInfo(tz)
    index = {start: i for i, start in enumerate(starts)}
    sums: dict[tuple[SpikeKind, str], list[int]] = defaultdict(lambda: [0] * len(starts))
    bucket_of: dict[datetime, int | None] = {}  # rows share their times: floor each once
    for row in rows:
        if row.kind not in KINDS:
            continue
        if row.at not in bucket_of:
            bucket_of[row.at] = index.get(floor(row.at, by, zone))
        i = bucket_of[row.at]
        if i is not None:
            kind: SpikeKind = "entity" if row.kind == "entity" else "claim"
            sums[(kind, row.key)][i] += row.n
    return [CountSeries(kind, key, counts) for (kind, key), counts in sorted(sums.items())]


@dataclass(frozen=True)
class Counted:
    """One line of an explanation: a source, entity or story with its article count."""

    key: str
    label: str
    count: int
    url: str | None = None

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {"key": self.key, "label": self.label, "count": self.count}
        if self.url is not None:
            record["url"] = self.url
        return record


@dataclass(frozen=True)
class SpikeExplanation:
    """What made the spike: in its bucket, the outlets that carried the key most, the entities
    mentioned with it, and its stories (a story's first article's title and address, with how
    many of the bucket's articles tell it)."""

    sources: list[Counted] = field(default_factory=list)
    entities: list[Counted] = field(default_factory=list)
    stories: list[Counted] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "sources": [c.to_json() for c in self.sources],
            "entities": [c.to_json() for c in self.entities],
            "stories": [c.to_json() for c in self.stories],
        }
