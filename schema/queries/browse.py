"""Pages of stored rows for the read API and the dashboard, newest first, by keyset.

Each function returns at most ``limit`` rows strictly after a position (the last row of the
previous page), so a page costs the same on the thousandth call as on the first and a row
stored while a reader pages through never shifts another one into a second page.

Functions take a Session and return rows; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from schema.models import Article, ArticleState, Claim, ClaimMatch, Entity, Feed, Mention

#: A position in a newest-first listing: the (date, id) of the last row already seen.
Position = tuple[datetime, int]


@dataclass(frozen=True)
class BrowseFilter:
    """Which stored articles (or their claim matches) to list. Empty tuples mean no filter."""

    since: datetime | None = None
    until: datetime | None = None
    entity_ids: Sequence[str] = ()
    claim_ids: Sequence[str] = ()
    stances: Sequence[str] = ()
    sources: Sequence[str] = ()


def _before(
    position: Position | None, at: InstrumentedAttribute[datetime | None], key: InstrumentedAttribute[int]
) -> list[ColumnElement[bool]]:
    if position is None:
        return []
    moment, row_id = position
    return [or_(at < moment, and_(at == moment, key < row_id))]


def _stored(where: BrowseFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Article.state == ArticleState.DONE,
        Article.dated_at.is_not(None),
    ]
    if where.since is not None:
        conditions.append(Article.dated_at >= where.since)
    if where.until is not None:
        conditions.append(Article.dated_at < where.until)
    if where.sources:
        conditions.append(Article.source.in_(where.sources))
    return conditions


def article_page(
    session: Session, where: BrowseFilter, after: Position | None, limit: int
) -> Sequence[Article]:
    """Stored original articles by ``dated_at`` then id, newest first, with their mentions,
    claim matches and feed loaded (an article shows whom it names and what it claims)."""
    query = (
        select(Article)
        .where(*_stored(where), *_before(after, Article.dated_at, Article.id))
        .options(
            selectinload(Article.mentions), selectinload(Article.claim_matches), selectinload(Article.feed)
        )
        .order_by(Article.dated_at.desc(), Article.id.desc())
        .limit(limit)
    )
    if where.entity_ids:
        query = query.where(Article.mentions.any(Mention.entity_id.in_(where.entity_ids)))
    if where.claim_ids or where.stances:
        match = ClaimMatch.article_id == Article.id
        if where.claim_ids:
            match = and_(match, ClaimMatch.claim_id.in_(where.claim_ids))
        if where.stances:
            match = and_(match, ClaimMatch.stance.in_(where.stances))
        query = query.where(select(ClaimMatch.id).where(match).exists())
    return session.scalars(query).all()


def stored_article(session: Session, article_id: int) -> Article | None:
    """One stored original article with its mentions, matches and feed (None if not stored)."""
    query = (
        select(Article)
        .where(Article.id == article_id, *_stored(BrowseFilter()))
        .options(
            selectinload(Article.mentions), selectinload(Article.claim_matches), selectinload(Article.feed)
        )
    )
    return session.scalars(query).one_or_none()


def match_page(
    session: Session, where: BrowseFilter, after: Position | None, limit: int
) -> Sequence[tuple[ClaimMatch, Article]]:
    """Claim matches of stored articles by the article's date then the match id, newest first."""
    query = (
        select(ClaimMatch, Article)
        .join(Article, Article.id == ClaimMatch.article_id)
        .where(*_stored(where), *_before(after, Article.dated_at, ClaimMatch.id))
        .order_by(Article.dated_at.desc(), ClaimMatch.id.desc())
        .limit(limit)
    )
    if where.claim_ids:
        query = query.where(ClaimMatch.claim_id.in_(where.claim_ids))
    if where.stances:
        query = query.where(ClaimMatch.stance.in_(where.stances))
    if where.entity_ids:
        query = query.where(Article.mentions.any(Mention.entity_id.in_(where.entity_ids)))
    return [(match, article) for match, article in session.execute(query)]


def entity_page(session: Session, after: str | None, limit: int) -> Sequence[Entity]:
    """Knowledge-base entities in id order."""
    query = select(Entity).order_by(Entity.id).limit(limit)
    if after is not None:
        query = query.where(Entity.id > after)
    return session.scalars(query).all()


def claim_page(session: Session, after: str | None, limit: int) -> Sequence[Claim]:
    """Knowledge-base claims in id order."""
    query = select(Claim).order_by(Claim.id).limit(limit)
    if after is not None:
        query = query.where(Claim.id > after)
    return session.scalars(query).all()


def feed_page(session: Session, after: int | None, limit: int) -> Sequence[Feed]:
    """Feeds in the order they were added, dead ones included."""
    query = select(Feed).order_by(Feed.id).limit(limit)
    if after is not None:
        query = query.where(Feed.id > after)
    return session.scalars(query).all()


def known_ids(session: Session) -> tuple[set[str], set[str]]:
    """The entity ids and claim ids in the store (filters naming others are refused)."""
    return set(session.scalars(select(Entity.id))), set(session.scalars(select(Claim.id)))
