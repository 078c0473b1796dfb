"""A claim's history: who said it first, who repeated it and when, who denied it, and
whether it is spreading now or came back after a quiet spell.

Pure functions over :class:`ClaimEvent` rows (one per stored article matching the claim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

#: A gap this long with no article on the claim makes the next article a resurfacing.
QUIET_SPELL = timedelta(days=14)
#: "Now" for the spreading test: the last week against the four weeks before it.
RECENT = timedelta(days=7)
BASELINE = timedelta(days=28)


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
    events: list[ClaimEvent]
    outlets: list[OutletRecord] = field(default_factory=list)
    resurfaced: list[tuple[datetime, float]] = field(default_factory=list)  # (when, days quiet before)
    recent: int = 0  # articles in the last week
    baseline_weekly: float = 0.0  # weekly average over the four weeks before
    spreading: bool = False

    @property
    def first(self) -> ClaimEvent | None:
        return self.events[0] if self.events else None

    def to_json(self) -> dict[str, object]:
        first = self.first
        return {
            "claim_id": self.claim_id,
            "statement": self.statement,
            "articles": len(self.events),
            "first_seen": None
            if first is None
            else {"source": first.source, "at": first.at.isoformat(), "title": first.title, "url": first.url},
            "outlets": [o.to_json() for o in self.outlets],
            "resurfaced": [
                {"at": at.isoformat(), "quiet_days": round(days, 1)} for at, days in self.resurfaced
            ],
            "recent_week": self.recent,
            "baseline_weekly": round(self.baseline_weekly, 2),
            "spreading": self.spreading,
            "events": [
                {
                    "article_id": e.article_id,
                    "at": e.at.isoformat(),
                    "source": e.source,
                    "stance": e.stance,
                    "title": e.title,
                    "url": e.url,
                    "score": round(e.score, 3),
                }
                for e in self.events
            ],
        }


def build_history(
    claim_id: str,
    statement: str,
    events: Sequence[ClaimEvent],
    *,
    now: datetime,
    quiet: timedelta = QUIET_SPELL,
) -> ClaimHistory:
    ordered = sorted(events, key=lambda e: (e.at, e.article_id))
    if not ordered:
        return ClaimHistory(claim_id, statement, [])
    start = ordered[0].at
    by_outlet: dict[str, list[ClaimEvent]] = {}
    for event in ordered:
        by_outlet.setdefault(event.source, []).append(event)
    outlets = [
        OutletRecord(
            source=source,
            first_at=carried[0].at,
            lag_hours=(carried[0].at - start).total_seconds() / 3600,
            articles=len(carried),
            stances=_tally(carried),
            flips=_flips(carried),
        )
        for source, carried in by_outlet.items()
    ]
    outlets.sort(key=lambda o: (o.first_at, o.source))
    resurfaced = [
        (later.at, (later.at - earlier.at).total_seconds() / 86400)
        for earlier, later in pairwise(ordered)
        if later.at - earlier.at >= quiet
    ]
    recent = sum(1 for e in ordered if now - RECENT <= e.at <= now)
    before = sum(1 for e in ordered if now - RECENT - BASELINE <= e.at < now - RECENT)
    weekly = before / (BASELINE / RECENT)
    # Spreading: at least three articles this week and more than twice the usual week.
    spreading = recent >= 3 and recent > 2 * weekly
    return ClaimHistory(claim_id, statement, ordered, outlets, resurfaced, recent, weekly, spreading)


def _tally(events: Sequence[ClaimEvent]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events:
        counts[event.stance] = counts.get(event.stance, 0) + 1
    return counts


def _flips(events: Sequence[ClaimEvent]) -> list[str]:
    """Changes between asserting and denying, in time order ("reports" is neutral)."""
    flips, last = [], None
    for event in events:
        if event.stance not in ("asserts", "denies"):
            continue
        if last is not None and event.stance != last:
            flips.append(f"{last}→{event.stance} on {event.at:%Y-%m-%d}")
        last = event.stance
    return flips
