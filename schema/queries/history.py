"""The reads behind a claim's history (``reports.history``), none of them over every match.

- :func:`claim_days`: the claim's per-outlet daily counters from the rollup (``trend_count``,
  one primary-key range), from which the counts, flips, resurfacing and spreading come.
- :func:`first_events`: each outlet's first article on the claim, looked for on the outlet's
  first day only (the rollup says which), through ``ix_article_source_dated_at``.
- :func:`latest_events`: the newest articles, read from the day the rollup says holds enough
  of them, so a claim with 300,000 matches does not have them all sorted.

All return ``reports.history`` records and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from reports.history import LATEST, ClaimEvent, DayRow
from schema.models import Article, ArticleState, ClaimMatch, TrendCount
from schema.rollup import CLAIM

#: Outlets per statement when looking for first articles (SQLite nests each OR one level
#: deeper and allows 1,000 levels).
OUTLETS_PER_STATEMENT = 200


def claim_days(session: Session, claim_id: str) -> Sequence[DayRow]:
    """Every non-zero counter of the claim: (outlet, UTC day, stance, articles), as Core rows
    (tuples with those names as attributes, like :class:`reports.history.DayCount`)."""
    query = select(TrendCount.source, TrendCount.day, TrendCount.stance, TrendCount.n).where(
        TrendCount.kind == CLAIM, TrendCount.key == claim_id, TrendCount.n > 0
    )
    # Core rows fetched at once and used as they are: a popular claim has some 20,000 counters.
    return session.connection().execute(query).all()


def first_events(session: Session, claim_id: str, first_days: Mapping[str, date]) -> dict[str, ClaimEvent]:
    """Each outlet's earliest stored article on the claim on its first day (by outlet; an
    outlet whose article is gone is missing): the articles of those (outlet, day) pairs, each
    one an index range, numbered per outlet in time order, the first of each kept. One
    statement per :data:`OUTLETS_PER_STATEMENT` outlets."""
    found: dict[str, ClaimEvent] = {}
    outlets = sorted(first_days.items())
    for start in range(0, len(outlets), OUTLETS_PER_STATEMENT):
        chunk = outlets[start : start + OUTLETS_PER_STATEMENT]
        order = func.row_number().over(partition_by=Article.source, order_by=(Article.dated_at, Article.id))
        numbered = (
            _events(claim_id)
            .add_columns(order.label("n"))
            .where(or_(*(_on(source, day) for source, day in chunk)))
            .subquery()
        )
        query = select(*(column for column in numbered.c if column.name != "n")).where(numbered.c.n == 1)
        for row in session.connection().execute(query):
            event = _event(row)
            # Articles without an outlet are NULL or "": two partitions, one outlet.
            if event.source not in found or _earlier(event, found[event.source]):
                found[event.source] = event
    return found


def latest_events(
    session: Session, claim_id: str, since: date | None, limit: int = LATEST
) -> list[ClaimEvent]:
    """The ``limit`` newest stored articles on the claim dated ``since`` (a UTC day) or later,
    newest first (none when ``since`` is None: no article on the claim)."""
    if since is None:
        return []
    query = (
        _events(claim_id)
        .where(Article.dated_at >= _midnight(since))
        .order_by(Article.dated_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [_event(row) for row in session.connection().execute(query)]


def _events(claim_id: str) -> Select[int, datetime | None, str | None, str | None, str | None, str, float]:
    return (
        select(
            Article.id,
            Article.dated_at,
            Article.source,
            ClaimMatch.stance,
            Article.title,
            Article.url,
            ClaimMatch.score,
        )
        .join(ClaimMatch, ClaimMatch.article_id == Article.id)
        .where(ClaimMatch.claim_id == claim_id, Article.state == ArticleState.DONE)
    )


def _on(source: str, day: date) -> ColumnElement[bool]:
    """The outlet's articles that UTC day. The rollup files an article without an outlet under
    "" (``schema.rollup.contribution``)."""
    outlet = Article.source == source if source else or_(Article.source.is_(None), Article.source == "")
    return and_(
        outlet, Article.dated_at >= _midnight(day), Article.dated_at < _midnight(day + timedelta(days=1))
    )


def _earlier(event: ClaimEvent, than: ClaimEvent) -> bool:
    return (event.at, event.article_id) < (than.at, than.article_id)


def _event(row: Any) -> ClaimEvent:
    """An article as an event (``dated_at`` is set: every query bounds it)."""
    article_id, at, source, stance, title, url, score = row
    return ClaimEvent(article_id, at, source or "", stance or "", title or "", url, float(score))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
