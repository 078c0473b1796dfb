"""Counts for trend reports, from the rollup or from the stored rows themselves.

Two sources, one answer (a test holds them equal):

- :func:`rollup_counts` sums the rollup (``schema.rollup``, maintained by the write path):
  ``trend_total`` per UTC day over all outlets, ``trend_count`` per day and outlet when the
  filter names outlets, ``trend_hour`` per UTC hour over all outlets.
- :func:`article_counts` reads the articles, mentions and claim matches in the window with
  their exact time: for what no rollup grain lines up with (hours of named outlets, days in a
  time zone whose offset is not whole hours, periods cut inside an hour).

:func:`counts` picks the cheapest exact one. All return :class:`reports.trends.CountRow`
records and never commit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Literal

from sqlalchemy import ColumnElement, DateTime, Select, case, func, literal, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session

from reports.trends import CountRow, on_theme
from schema.models import (
    Article,
    ArticleState,
    Claim,
    ClaimMatch,
    Entity,
    Mention,
    TrendCount,
    TrendHour,
    TrendTotal,
)
from schema.rollup import (
    ARTICLES,
    BANDS,
    CLAIM,
    ENTITY,
    NO_RELEVANCE,
    PAIR,
    SOURCE,
    pair_key,
    relevance_band,
)

Grain = Literal["day", "hour"]
KINDS = (ARTICLES, ENTITY, CLAIM)


@dataclass(frozen=True)
class CountFilter:
    """Which stored articles count. Empty tuples mean no filter."""

    since: datetime
    until: datetime
    entity_ids: Sequence[str] = ()
    claim_ids: Sequence[str] = ()
    stances: Sequence[str] = ()
    sources: Sequence[str] = ()

    def whole(self, grain: Grain) -> bool:
        """Both ends fall on a UTC day (or hour) boundary, so the rollup's grain lines up."""
        ends = [t.astimezone(UTC) for t in (self.since, self.until)]
        if grain == "day":
            return all(t.hour == t.minute == t.second == t.microsecond == 0 for t in ends)
        return all(t.minute == t.second == t.microsecond == 0 for t in ends)


def counts(
    session: Session,
    where: CountFilter,
    *,
    utc_days: bool,
    kinds: Sequence[str] = KINDS,
    per_key: bool = True,
    per_stance: bool = True,
    on_theme_threshold: float | None = None,
) -> list[CountRow]:
    """The counts of ``kinds`` in the period from the cheapest exact source: the daily rollup
    when the caller's buckets are whole UTC days (``utc_days``) and the period is too, the
    hourly one (all outlets only) when the period is whole UTC hours, else the rows."""
    grain: Grain
    if utc_days and where.whole("day"):
        grain = "day"
    elif not where.sources and where.whole("hour"):
        grain = "hour"
    else:
        return [row for row in article_counts(session, where) if row.kind in kinds]
    return rollup_counts(
        session,
        where,
        kinds,
        grain=grain,
        per_key=per_key,
        per_stance=per_stance,
        on_theme_threshold=on_theme_threshold,
    )


def rollup_counts(
    session: Session,
    where: CountFilter,
    kinds: Sequence[str] = KINDS,
    *,
    per_key: bool = True,
    grain: Grain = "day",
    per_stance: bool = True,
    on_theme_threshold: float | None = None,
) -> list[CountRow]:
    """Sums from the rollup per UTC day (or hour) over the days (hours) that hold ``since`` …
    ``until``.

    With ``per_key=False`` the sums are made in SQL over what a timeline does not show apart
    (every claim of a stance; every entity, unless the filter names entities), so a year of
    data comes back as a few thousand rows instead of one per key and day. With an
    ``on_theme_threshold`` too, the relevance bands are summed into two: on-theme (key "1.00")
    and the rest (key "none"), which is all a timeline tells apart. With ``per_stance=False``
    a claim's stances are summed (stance ""), which is all a spike test tells apart."""
    if grain == "hour" and where.sources:
        raise ValueError("the hourly rollup is over all outlets; read the rows for named outlets")
    rows: list[CountRow] = []
    start_of = functools.cache(_start)  # each distinct bucket made a UTC datetime once
    table = TrendHour if grain == "hour" else TrendCount if where.sources else TrendTotal
    # Hours come back as the driver gives them (``start_of`` makes them UTC): a week of hourly
    # counters is some 16,000 rows over only 168 moments, each converted once, not per row.
    hour = type_coerce(TrendHour.hour, DateTime(timezone=True))
    bucket = hour if grain == "hour" else table.day  # type: ignore[union-attr]
    since, until = where.since.astimezone(UTC), where.until.astimezone(UTC)
    first, last = (since, until) if grain == "hour" else (since.date(), until.date())
    for kind in kinds:
        key, grouped = _key(table, kind, where, per_key=per_key, on_theme_threshold=on_theme_threshold)
        stance = table.stance if per_stance else literal("").label("stance")
        query = (
            select(key, stance, bucket, func.sum(table.n))
            .where(table.kind == kind, bucket >= first, bucket <= last)
            .group_by(*([key] if grouped else []), *([table.stance] if per_stance else []), bucket)
        )
        if where.sources:
            query = query.where(TrendCount.source.in_(where.sources))
        if kind == ENTITY and where.entity_ids:
            query = query.where(table.key.in_(where.entity_ids))
        if kind == CLAIM and where.claim_ids:
            query = query.where(table.key.in_(where.claim_ids))
        if kind == CLAIM and where.stances:
            query = query.where(table.stance.in_(where.stances))
        rows.extend(
            CountRow(kind, key, stance, start_of(at), int(n))
            # Core rows: a week of hourly counters is some 16,000 rows, each slower through the ORM.
            for key, stance, at, n in session.connection().execute(query).all()
        )
    return rows


def _key(
    table: type[TrendCount] | type[TrendTotal] | type[TrendHour],
    kind: str,
    where: CountFilter,
    *,
    per_key: bool,
    on_theme_threshold: float | None,
) -> tuple[ColumnElement[str] | InstrumentedAttribute[str], bool]:
    """The key column a rollup query reads for ``kind``, and whether rows are grouped by it:
    the key itself, the relevance bands folded into on-theme ("1.00") or not ("none"), or
    nothing (every key of the kind summed)."""
    if per_key or (kind == ENTITY and where.entity_ids):
        return table.key, True
    if kind == ARTICLES and on_theme_threshold is not None:
        passing = [band for band in BANDS if on_theme(band, on_theme_threshold)]
        return case((table.key.in_(passing), BANDS[-1]), else_=NO_RELEVANCE).label("key"), True
    if kind == ARTICLES:
        return table.key, True
    return literal("").label("key"), False


def _start(bucket: datetime | object) -> datetime:
    """A rollup bucket's start as an aware UTC datetime (days come back as dates; SQLite's
    hours without their zone)."""
    if isinstance(bucket, datetime):
        return bucket.replace(tzinfo=UTC) if bucket.tzinfo is None else bucket.astimezone(UTC)
    return datetime.combine(bucket, time(), tzinfo=UTC)  # type: ignore[arg-type]


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
    rollup's columns named in ``by`` (``key``, ``stance``, ``source``): over all outlets from
    ``trend_total``, per outlet from ``trend_count``."""
    per_outlet = bool(where.sources) or "source" in by
    table = TrendCount if per_outlet else TrendTotal
    columns = [getattr(table, name) for name in by]
    query = (
        select(*columns, func.sum(table.n))
        .where(
            table.kind == kind,
            table.day >= where.since.astimezone(UTC).date(),
            table.day < where.until.astimezone(UTC).date(),
        )
        .group_by(*columns)
    )
    if where.sources:
        query = query.where(TrendCount.source.in_(where.sources))
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def outlet_totals(session: Session, where: CountFilter) -> dict[str, int]:
    """Stored articles per outlet over the period's whole UTC days (the named outlets only,
    when the filter names some)."""
    if where.sources:
        return {k[0]: n for k, n in rollup_totals(session, where, ARTICLES, ["source"]).items()}
    return {k[0]: n for k, n in rollup_totals(session, where, SOURCE, ["key"]).items()}


def cooccurring_entities(session: Session, where: CountFilter, entity_id: str, limit: int) -> dict[str, int]:
    """Entities mentioned in the period's stored articles that mention ``entity_id``: articles
    each. Over all outlets from the rollup's entity pairs (whole UTC days); for named outlets
    from the mentions themselves."""
    if not where.sources:
        prefix = pair_key(entity_id, "")
        articles = func.sum(TrendTotal.n)
        pairs = (
            select(TrendTotal.key, articles)
            .where(
                TrendTotal.kind == PAIR,
                TrendTotal.day >= where.since.astimezone(UTC).date(),
                TrendTotal.day < where.until.astimezone(UTC).date(),
                # A range on the key rather than LIKE: the index serves it on every collation.
                TrendTotal.key >= prefix,
                TrendTotal.key < prefix[:-1] + chr(ord(prefix[-1]) + 1),
            )
            .group_by(TrendTotal.key)
            .having(articles > 0)
            .order_by(articles.desc(), TrendTotal.key)
            .limit(limit)
        )
        return {key.removeprefix(prefix): int(n) for key, n in session.execute(pairs)}
    with_entity = (
        select(Mention.article_id)
        .join(Article, Article.id == Mention.article_id)
        .where(
            Mention.entity_id == entity_id,
            Article.state == ArticleState.DONE,
            Article.dated_at >= where.since,
            Article.dated_at < where.until,
            Article.source.in_(where.sources),
        )
    )
    distinct_articles = func.count(Mention.article_id.distinct())
    query = (
        select(Mention.entity_id, distinct_articles)
        .where(Mention.article_id.in_(with_entity.scalar_subquery()), Mention.entity_id != entity_id)
        .group_by(Mention.entity_id)
        .order_by(distinct_articles.desc(), Mention.entity_id)
        .limit(limit)
    )
    return {key: int(n) for key, n in session.execute(query)}


def entity_names(session: Session) -> dict[str, str]:
    return {row.id: row.name for row in session.execute(select(Entity.id, Entity.name))}


def claim_statements(session: Session) -> dict[str, str]:
    return {row.id: row.statement for row in session.execute(select(Claim.id, Claim.statement))}
