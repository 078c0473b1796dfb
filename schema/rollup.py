"""The trend rollup, kept in step with the articles by the write path.

Every stored article adds one to a few counters (its relevance band, its outlet, each entity it
mentions, each claim and stance it matches, each pair of entities it mentions together). When an
article's matches are replaced, its old contribution is taken off and the new one added, in the
same transaction, so the rollup is always the sum over the stored articles and no report ever
recounts them.

The counters are kept at three grains, one table each (``ROLLUPS``), because reports ask three
kinds of question: per outlet and UTC day (``trend_count``, for ``--source``), over all outlets
per UTC day (``trend_total``, most reports, and the entity pairs), and over all outlets per UTC
hour (``trend_hour``, hourly reports and days in other time zones).

The upsert adds to a counter (``n = n + excluded.n``); keys are applied in sorted order so
two transactions touching the same counters lock them in the same order and cannot deadlock.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import permutations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.db import insert_for
from schema.models import Article, ArticleState, ClaimMatch, Mention, TrendCount, TrendHour, TrendTotal

#: Width of a relevance band: on-theme counts are exact for thresholds on this grid.
RELEVANCE_BAND = 0.05
#: Band key of an article with no relevance score.
NO_RELEVANCE = "none"
#: Every band key an article with a score can have ("0.00" … "1.00").
BANDS = tuple(f"{k * RELEVANCE_BAND:.2f}" for k in range(round(1 / RELEVANCE_BAND) + 1))

ARTICLES, ENTITY, CLAIM, PAIR, SOURCE = "articles", "entity", "claim", "pair", "source"


@dataclass(frozen=True, order=True)
class CounterKey:
    """One counter one article adds to, at its finest grain (UTC hour, outlet)."""

    kind: str
    key: str
    stance: str
    hour: datetime  # UTC, whole hour
    source: str

    @property
    def day(self) -> date:
        return self.hour.date()


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its model, the counter kinds it keeps and its key columns."""

    model: type[TrendCount] | type[TrendTotal] | type[TrendHour]
    kinds: frozenset[str]
    columns: tuple[str, ...]

    def rows(self, counts: Counter[CounterKey]) -> list[dict[str, object]]:
        """``counts`` summed to this table's grain, as rows in key order (non-zero only)."""
        summed: Counter[tuple[object, ...]] = Counter()
        for counter, n in counts.items():
            if counter.kind in self.kinds:
                summed[tuple(getattr(counter, name) for name in self.columns)] += n
        return [
            {**dict(zip(self.columns, values, strict=True)), "n": n}
            for values, n in sorted(summed.items())
            if n
        ]


ROLLUPS = (
    Rollup(TrendCount, frozenset({ARTICLES, ENTITY, CLAIM}), ("kind", "key", "stance", "day", "source")),
    # Pairs only over all outlets: per outlet they would be most of the rollup. ``source``
    # counts each outlet's articles (key: the outlet) for top lists, without the bands.
    Rollup(TrendTotal, frozenset({ARTICLES, ENTITY, CLAIM, PAIR, SOURCE}), ("kind", "day", "key", "stance")),
    Rollup(TrendHour, frozenset({ARTICLES, ENTITY, CLAIM}), ("kind", "hour", "key", "stance")),
)


def pair_key(entity_id: str, other_id: str) -> str:
    """The ``pair`` counter of articles mentioning both: ``"entity|other"``."""
    return f"{entity_id}|{other_id}"


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
    hour, outlet = dated_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0), source or ""
    counts: Counter[CounterKey] = Counter(
        {
            CounterKey(ARTICLES, relevance_band(relevance), "", hour, outlet): 1,
            CounterKey(SOURCE, outlet, "", hour, outlet): 1,
        }
    )
    mentioned = set(entity_ids)
    for entity_id in mentioned:
        counts[CounterKey(ENTITY, entity_id, "", hour, outlet)] = 1
    for entity_id, other_id in permutations(sorted(mentioned), 2):
        counts[CounterKey(PAIR, pair_key(entity_id, other_id), "", hour, outlet)] = 1
    for claim_id, stance in set(claims):
        counts[CounterKey(CLAIM, claim_id, stance or "", hour, outlet)] = 1
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
    """Add ``new`` and take off ``old`` in every rollup table (counters that reach zero are
    left at zero)."""
    delta = Counter(new)
    delta.subtract(old or Counter())
    for rollup in ROLLUPS:
        rows = rollup.rows(delta)
        if not rows:
            continue
        statement = insert_for(session, rollup.model).values(rows)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=list(rollup.columns),
                set_={"n": rollup.model.n + statement.excluded.n},
            )
        )
