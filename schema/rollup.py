"""The trend rollup (``trend_count``), kept in step with the articles by the write path.

Every stored article adds one to a few daily counters (its relevance band, each entity it
mentions, each claim and stance it matches). When an article's matches are replaced, its old
contribution is taken off and the new one added, in the same transaction, so the rollup is
always the sum over the stored articles and no report ever recounts them.

The upsert adds to a counter (``n = n + excluded.n``); keys are applied in sorted order so
two transactions touching the same counters lock them in the same order and cannot deadlock.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.db import insert_for
from schema.models import Article, ArticleState, ClaimMatch, Mention, TrendCount

#: Width of a relevance band: on-theme counts are exact for thresholds on this grid.
RELEVANCE_BAND = 0.05
#: Band key of an article with no relevance score.
NO_RELEVANCE = "none"

ARTICLES, ENTITY, CLAIM = "articles", "entity", "claim"


@dataclass(frozen=True, order=True)
class CounterKey:
    kind: str
    key: str
    stance: str
    day: date
    source: str


def relevance_band(relevance: float | None) -> str:
    """The band an article's relevance falls in, as its lower bound ("0.30")."""
    if relevance is None:
        return NO_RELEVANCE
    steps = math.floor(round(relevance / RELEVANCE_BAND, 6))
    return f"{min(max(steps, 0), round(1 / RELEVANCE_BAND)) * RELEVANCE_BAND:.2f}"


def contribution(
    dated_at: datetime,
    source: str | None,
    relevance: float | None,
    entity_ids: Iterable[str],
    claims: Iterable[tuple[str, str | None]],
) -> Counter[CounterKey]:
    """What one stored article adds to the rollup."""
    day, outlet = dated_at.date(), source or ""
    counts: Counter[CounterKey] = Counter(
        {CounterKey(ARTICLES, relevance_band(relevance), "", day, outlet): 1}
    )
    for entity_id in set(entity_ids):
        counts[CounterKey(ENTITY, entity_id, "", day, outlet)] = 1
    for claim_id, stance in set(claims):
        counts[CounterKey(CLAIM, claim_id, stance or "", day, outlet)] = 1
    return counts


def stored_contribution(session: Session, article_id: int) -> Counter[CounterKey]:
    """What the article as stored now adds (nothing unless it is a stored, dated article)."""
    with session.no_autoflush:  # read the committed state, not the changes about to be made
        row = session.execute(
            select(Article.state, Article.dated_at, Article.source, Article.relevance).where(
                Article.id == article_id
            )
        ).one_or_none()
        if row is None or row.state != ArticleState.DONE or row.dated_at is None:
            return Counter()
        entity_ids = session.scalars(select(Mention.entity_id).where(Mention.article_id == article_id))
        claims = session.execute(
            select(ClaimMatch.claim_id, ClaimMatch.stance).where(ClaimMatch.article_id == article_id)
        )
        return contribution(
            row.dated_at, row.source, row.relevance, list(entity_ids), [(c, s) for c, s in claims]
        )


def apply(session: Session, new: Counter[CounterKey], old: Counter[CounterKey] | None = None) -> None:
    """Add ``new`` and take off ``old`` (counters that reach zero are left at zero)."""
    delta = Counter(new)
    delta.subtract(old or Counter())
    rows = [
        {"kind": k.kind, "key": k.key, "stance": k.stance, "day": k.day, "source": k.source, "n": n}
        for k, n in sorted(delta.items())
        if n
    ]
    if not rows:
        return
    statement = insert_for(session, TrendCount).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind", "key", "stance", "day", "source"],
            set_={"n": TrendCount.n + statement.excluded.n},
        )
    )
