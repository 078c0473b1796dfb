"""Counts for trend reports, from the rollup or from the stored rows themselves.

Two sources, one answer (a test holds them equal):

- :func:`rollup_counts` sums ``trend_count`` (UTC days, maintained by the write path): the
  fast path for days, weeks and months in UTC, and for top lists and daily spike tests.
- :func:`article_counts` reads the articles, mentions and claim matches in the window with
  their exact time: for hours, and for days in another time zone.

Both return :class:`reports.trends.CountRow` records and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from reports.trends import CountRow
from schema.models import Article, ArticleState, Claim, ClaimMatch, Entity, Mention, TrendCount
from schema.rollup import ARTICLES, CLAIM, ENTITY, relevance_band


@dataclass(frozen=True)
class CountFilter:
    """Which stored articles count. Empty tuples mean no filter."""

    since: datetime
    until: datetime
    entity_ids: Sequence[str] = ()
    claim_ids: Sequence[str] = ()
    stances: Sequence[str] = ()
    sources: Sequence[str] = ()


def rollup_counts(
    session: Session,
    where: CountFilter,
    kinds: Sequence[str] = (ARTICLES, ENTITY, CLAIM),
    *,
    per_key: bool = True,
) -> list[CountRow]:
    """Daily sums from the rollup over the UTC days that hold ``since`` … ``until``.

    With ``per_key=False`` the sums are made in SQL over what a timeline does not show apart
    (every claim of a stance; every entity, unless the filter names entities), so a year of
    data comes back as a few thousand rows instead of one per key and day."""
    rows: list[CountRow] = []
    day_from, day_to = where.since.astimezone(UTC).date(), where.until.astimezone(UTC).date()
    for kind in kinds:
        apart = kind == ARTICLES or per_key or (kind == ENTITY and bool(where.entity_ids))
        key = TrendCount.key if apart else literal("").label("key")
        query = (
            select(key, TrendCount.stance, TrendCount.day, func.sum(TrendCount.n))
            .where(TrendCount.kind == kind, TrendCount.day >= day_from, TrendCount.day <= day_to)
            .group_by(*([TrendCount.key] if apart else []), TrendCount.stance, TrendCount.day)
        )
        if where.sources:
            query = query.where(TrendCount.source.in_(where.sources))
        if kind == ENTITY and where.entity_ids:
            query = query.where(TrendCount.key.in_(where.entity_ids))
        if kind == CLAIM and where.claim_ids:
            query = query.where(TrendCount.key.in_(where.claim_ids))
        if kind == CLAIM and where.stances:
            query = query.where(TrendCount.stance.in_(where.stances))
        rows.extend(
            CountRow(kind, key, stance, datetime.combine(day, time(), tzinfo=UTC), int(n))
            for key, stance, day, n in session.execute(query)
        )
    return rows


def _stored_in(where: CountFilter) -> Select[int, datetime | None, float | None]:
    query = select(Article.id, Article.dated_at, Article.relevance).where(
        Article.state == ArticleState.DONE, Article.dated_at >= where.since, Article.dated_at < where.until
    )
    if where.sources:
        query = query.where(Article.source.in_(where.sources))
    return query


def article_counts(session: Session, where: CountFilter) -> list[CountRow]:
    """One row per stored article (and per entity and claim it carries) at its exact date."""
    stored = _stored_in(where).subquery()
    rows = [
        CountRow(ARTICLES, relevance_band(relevance), "", dated_at, 1)
        for _id, dated_at, relevance in session.execute(select(stored))
    ]
    mentions = (
        select(Mention.entity_id, stored.c.dated_at)
        .join(stored, stored.c.id == Mention.article_id)
        .distinct()
        .add_columns(Mention.article_id)
    )
    if where.entity_ids:
        mentions = mentions.where(Mention.entity_id.in_(where.entity_ids))
    rows += [CountRow(ENTITY, entity_id, "", at, 1) for entity_id, at, _article in session.execute(mentions)]
    claims = select(ClaimMatch.claim_id, ClaimMatch.stance, stored.c.dated_at).join(
        stored, stored.c.id == ClaimMatch.article_id
    )
    if where.claim_ids:
        claims = claims.where(ClaimMatch.claim_id.in_(where.claim_ids))
    if where.stances:
        claims = claims.where(ClaimMatch.stance.in_(where.stances))
    rows += [
        CountRow(CLAIM, claim_id, stance or "", at, 1) for claim_id, stance, at in session.execute(claims)
    ]
    return rows


def rollup_totals(
    session: Session, where: CountFilter, kind: str, by: Sequence[str]
) -> dict[tuple[str, ...], int]:
    """Sums over the period's whole UTC days from the rollup, for one kind, grouped by the
    rollup's columns named in ``by`` (``key``, ``stance``, ``source``)."""
    columns = [getattr(TrendCount, name) for name in by]
    query = (
        select(*columns, func.sum(TrendCount.n))
        .where(
            TrendCount.kind == kind,
            TrendCount.day >= where.since.astimezone(UTC).date(),
            TrendCount.day < where.until.astimezone(UTC).date(),
        )
        .group_by(*columns)
    )
    if where.sources:
        query = query.where(TrendCount.source.in_(where.sources))
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def cooccurring_entities(session: Session, where: CountFilter, entity_id: str, limit: int) -> dict[str, int]:
    """Entities mentioned in the period's stored articles that mention ``entity_id``: articles each."""
    with_entity = (
        select(Mention.article_id)
        .join(Article, Article.id == Mention.article_id)
        .where(
            Mention.entity_id == entity_id,
            Article.state == ArticleState.DONE,
            Article.dated_at >= where.since,
            Article.dated_at < where.until,
        )
    )
    if where.sources:
        with_entity = with_entity.where(Article.source.in_(where.sources))
    articles = func.count(Mention.article_id.distinct())
    query = (
        select(Mention.entity_id, articles)
        .where(Mention.article_id.in_(with_entity.scalar_subquery()), Mention.entity_id != entity_id)
        .group_by(Mention.entity_id)
        .order_by(articles.desc(), Mention.entity_id)
        .limit(limit)
    )
    return {key: int(n) for key, n in session.execute(query)}


def claim_events(session: Session, claim_id: str) -> list[tuple[int, datetime, str, str, str, str, float]]:
    """Every stored article matching the claim: (id, date, outlet, stance, title, url, score)."""
    query = (
        select(
            Article.id,
            Article.dated_at,
            Article.source,
            ClaimMatch.stance,
            Article.title,
            Article.url,
            ClaimMatch.score,
        )
        .join(Article, Article.id == ClaimMatch.article_id)
        .where(ClaimMatch.claim_id == claim_id, Article.state == ArticleState.DONE)
        .order_by(Article.dated_at, Article.id)
    )
    return [
        (i, at, source or "", stance or "", title or "", url, float(score))
        for i, at, source, stance, title, url, score in session.execute(query)
        if at is not None
    ]


def entity_names(session: Session) -> dict[str, str]:
    return {row.id: row.name for row in session.execute(select(Entity.id, Entity.name))}


def claim_statements(session: Session) -> dict[str, str]:
    return {row.id: row.statement for row in session.execute(select(Claim.id, Claim.statement))}
