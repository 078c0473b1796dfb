"""A claim's history: who said it first, who repeated it and when, who denied it, and
whether it is spreading now or came back after a quiet spell.

Built from the trend rollup's per-outlet daily counters (:class:`DayCount`: articles of one
outlet on one UTC day with one stance, exact) and two small sets of articles (:class:`ClaimEvent`):
each outlet's first article on the claim and the latest :data:`LATEST`. So a history's cost
grows with the outlets and days that carried the claim (at most outlets × days × stances
counters), not with its matches: 300,000 of them are no longer each read.

Exact to the second: the first article, each outlet's first time and its lag behind the first
outlet, the latest articles. At **day resolution** (UTC days, the rollup's grain):

- counts per outlet and stance;
- flips (:func:`_flips`): an outlet's state on a day is the set of stances among "asserts" and
  "denies" it carried that day ("reports" and no stance are neutral: such days are skipped).
  A day whose state differs from the outlet's previous state is a flip, written
  "asserts→denies on 2025-05-02" between single stances, "asserts and denies on 2025-05-02"
  for a day carrying both (also on the outlet's first day: both in one day means it changed
  within the day, in an order the day counts do not keep), and "asserts and denies→denies on
  2025-05-03" when it settles on one again. A run of days carrying both is one flip;
- resurfacing: two consecutive days with articles (any outlet) at least :data:`QUIET_SPELL`
  apart make the later day a resurfacing, after that many days;
- spreading: the :data:`RECENT` UTC days up to and including the day of ``now`` against the
  weekly average of the :data:`BASELINE` days before them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple

#: Days this far apart with no article on the claim between them make the later a resurfacing.
QUIET_SPELL = timedelta(days=14)
#: "Now" for the spreading test: the last week against the four weeks before it.
RECENT = timedelta(days=7)
BASELINE = timedelta(days=28)
#: Newest articles a history lists (the counts cover them all).
LATEST = 100
#: The stances a flip is between ("reports" and none are neutral).
SIDES = ("asserts", "denies")
_SIDE_BITS = {side: 1 << i for i, side in enumerate(SIDES)}
_BOTH = (1 << len(SIDES)) - 1
#: How a day's sides read in a flip: "asserts", "denies", "asserts and denies".
_SAID = {
    state: " and ".join(side for side, bit in _SIDE_BITS.items() if state & bit)
    for state in range(1, _BOTH + 1)
}


@dataclass(frozen=True)
class ClaimEvent:
    """One stored article matching the claim."""

    article_id: int
    at: datetime
    source: str
    stance: str
    title: str
    url: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "article_id": self.article_id,
            "at": self.at.isoformat(),
            "source": self.source,
            "stance": self.stance,
            "title": self.title,
            "url": self.url,
            "score": round(self.score, 3),
        }


class DayCount(NamedTuple):
    """Stored articles of one outlet on one UTC day matching the claim with one stance (a
    ``trend_count`` counter: outlet "" is an article without one, stance "" one without).

    The functions below take any ``(source, day, stance, n)`` tuples (:data:`DayRow`), so the
    store's rows are used as they come: a popular claim has some 20,000 counters (outlets ×
    days × stances)."""

    source: str
    day: date
    stance: str
    n: int


#: A :class:`DayCount` as any tuple: (outlet, UTC day, stance, articles).
DayRow = tuple[str, date, str, int]


@dataclass(frozen=True)
class OutletRecord:
    """How one outlet carried the claim: first time, lag behind the first outlet, stances."""

    source: str
    first_at: datetime
    lag_hours: float
    articles: int
    stances: dict[str, int]
    flips: list[str]  # "asserts→denies on 2025-05-02"

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "first_at": self.first_at.isoformat(),
            "lag_hours": round(self.lag_hours, 1),
            "articles": self.articles,
            "stances": self.stances,
            "flips": self.flips,
        }


@dataclass(frozen=True)
class ClaimHistory:
    claim_id: str
    statement: str
    articles: int = 0  # every stored article on the claim
    first: ClaimEvent | None = None
    outlets: list[OutletRecord] = field(default_factory=list)
    resurfaced: list[tuple[date, int]] = field(default_factory=list)  # (day, days since the last)
    recent: int = 0  # articles in the last week
    baseline_weekly: float = 0.0  # weekly average over the four weeks before
    spreading: bool = False
    latest: list[ClaimEvent] = field(default_factory=list)  # up to LATEST, newest first

    def to_json(self) -> dict[str, object]:
        first = self.first
        return {
            "claim_id": self.claim_id,
            "statement": self.statement,
            "articles": self.articles,
            "first_seen": None
            if first is None
            else {
                "source": first.source,
                "at": first.at.isoformat(),
                "title": first.title,
                "url": first.url,
                "stance": first.stance,
            },
            "outlets": [o.to_json() for o in self.outlets],
            "resurfaced": [{"day": day.isoformat(), "quiet_days": days} for day, days in self.resurfaced],
            "recent_week": self.recent,
            "baseline_weekly": round(self.baseline_weekly, 2),
            "spreading": self.spreading,
            "latest_events": [e.to_json() for e in self.latest],
        }


def build_history(
    claim_id: str,
    statement: str,
    days: Iterable[DayRow],
    firsts: Mapping[str, ClaimEvent],
    latest: Sequence[ClaimEvent],
    *,
    now: datetime,
    quiet: timedelta = QUIET_SPELL,
) -> ClaimHistory:
    """The history from the claim's counters (``days``), each outlet's first article
    (``firsts``, by outlet; see :func:`first_days`) and the newest articles (``latest``).

    An outlet missing from ``firsts`` (its article gone between the two reads) is dated at the
    start of its first day."""
    per_day: dict[date, int] = defaultdict(int)
    outlets_seen: dict[str, _Outlet] = {}
    for source, day, stance, n in days:  # unpacked: a popular claim has 20,000 counters
        if n <= 0:  # counters that went back to zero stay in the rollup
            continue
        per_day[day] += n
        outlet = outlets_seen.get(source) or outlets_seen.setdefault(source, _Outlet())
        outlet.stances[stance] = outlet.stances.get(stance, 0) + n
        outlet.sides[day] = outlet.sides.get(day, 0) | _SIDE_BITS.get(stance, 0)
    if not per_day:
        return ClaimHistory(claim_id, statement)
    first = min(firsts.values(), key=_order) if firsts else None
    first_at = {
        source: firsts[source].at if source in firsts else _midnight(min(outlet.sides))
        for source, outlet in outlets_seen.items()
    }
    start = first.at if first is not None else min(first_at.values())
    outlets = [
        OutletRecord(
            source=source,
            first_at=first_at[source],
            lag_hours=(first_at[source] - start).total_seconds() / 3600,
            articles=sum(outlet.stances.values()),
            stances=outlet.stances,
            flips=_flips(outlet.sides),
        )
        for source, outlet in outlets_seen.items()
    ]
    outlets.sort(key=lambda o: (o.first_at, o.source))
    active = sorted(per_day)
    resurfaced = [
        (later, (later - earlier).days) for earlier, later in pairwise(active) if later - earlier >= quiet
    ]
    today = now.astimezone(UTC).date()
    week_from = today - RECENT + timedelta(days=1)  # the week ends with today
    baseline_from = week_from - BASELINE
    recent = sum(n for day, n in per_day.items() if week_from <= day <= today)
    before = sum(n for day, n in per_day.items() if baseline_from <= day < week_from)
    weekly = before / (BASELINE / RECENT)
    # Spreading: at least three articles this week and more than twice the usual week.
    spreading = recent >= 3 and recent > 2 * weekly
    return ClaimHistory(
        claim_id,
        statement,
        articles=sum(per_day.values()),
        first=first,
        outlets=outlets,
        resurfaced=resurfaced,
        recent=recent,
        baseline_weekly=weekly,
        spreading=spreading,
        latest=sorted(latest, key=_order, reverse=True)[:LATEST],
    )


@dataclass
class _Outlet:
    """One outlet's counters summed as they are read: articles per stance, and per day the
    sides it took (a bit per stance in :data:`SIDES`; 0 for a day of neutral articles only)."""

    stances: dict[str, int] = field(default_factory=dict)
    sides: dict[date, int] = field(default_factory=dict)


def first_days(days: Iterable[DayRow]) -> dict[str, date]:
    """Each outlet's first UTC day on the claim: where to look for its first article."""
    first: dict[str, date] = {}
    for source, day, _stance, n in days:
        if n > 0 and (source not in first or day < first[source]):
            first[source] = day
    return first


def latest_from(days: Iterable[DayRow], limit: int = LATEST) -> date | None:
    """The latest day D such that the days from D on hold at least ``limit`` articles (the
    first day when all of them hold fewer; None with none): the newest ``limit`` articles
    are all dated D or later, so reading them need not sort every match."""
    per_day: dict[date, int] = defaultdict(int)
    for _source, day, _stance, n in days:
        if n > 0:
            per_day[day] += n
    held = 0
    for day in sorted(per_day, reverse=True):
        held += per_day[day]
        if held >= limit:
            return day
    return min(per_day, default=None)


def day_counts(events: Iterable[ClaimEvent]) -> list[DayCount]:
    """The counters the rollup keeps for these articles (what ``trend_count`` holds for them)."""
    counts: dict[tuple[str, date, str], int] = defaultdict(int)
    for event in events:
        counts[event.source, event.at.astimezone(UTC).date(), event.stance] += 1
    return [DayCount(source, day, stance, n) for (source, day, stance), n in sorted(counts.items())]


def history_from_events(
    claim_id: str,
    statement: str,
    events: Sequence[ClaimEvent],
    *,
    now: datetime,
    quiet: timedelta = QUIET_SPELL,
) -> ClaimHistory:
    """The history of every article on the claim, given as events: their counters, each
    outlet's first and the newest, handed to :func:`build_history` (the store's history reads
    the same three from the rollup and two small queries)."""
    firsts: dict[str, ClaimEvent] = {}
    for event in sorted(events, key=_order):
        firsts.setdefault(event.source, event)
    latest = sorted(events, key=_order, reverse=True)[:LATEST]
    return build_history(claim_id, statement, day_counts(events), firsts, latest, now=now, quiet=quiet)


def _order(event: ClaimEvent) -> tuple[datetime, int]:
    return event.at, event.article_id


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _flips(sides: Mapping[date, int]) -> list[str]:
    """One outlet's changes between asserting and denying, day by day, from the sides it took
    each day (the rule is in the module docstring)."""
    flips: list[str] = []
    last = 0
    for day in sorted(sides):
        state = sides[day]
        if state == 0 or state == last:  # neutral articles only, or the same as before
            continue
        if state == _BOTH:
            flips.append(f"{_SAID[state]} on {day.isoformat()}")
        elif last:
            flips.append(f"{_SAID[last]}→{_SAID[state]} on {day.isoformat()}")
        last = state
    return flips
