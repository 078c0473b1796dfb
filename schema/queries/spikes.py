"""What spike reports read besides the counts: where the store's history starts, and what
explains one spike (the outlets, co-mentioned entities and stories of its bucket).

The counts themselves come from ``schema.queries.trends.counts`` (the rollup, or the rows where
no rollup grain lines up), written once there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from reports.spikes import Counted
from schema.models import Article, ArticleState, ClaimMatch, Entity, Mention


def first_stored_at(session: Session) -> datetime | None:
    """The date of the earliest stored article: before it the store knows nothing, so counts
    there are unknown rather than zero."""
    return session.scalar(select(func.min(Article.dated_at)).where(Article.state == ArticleState.DONE))


def _carrying(kind: str, key: str, start: datetime, end: datetime) -> Select[int]:
    """The ids of the stored articles dated in ``[start, end)`` that mention entity ``key``
    (``kind`` "entity") or match claim ``key`` (``kind`` "claim")."""
    if kind == "entity":
        link = select(Mention.article_id.label("article_id")).where(Mention.entity_id == key)
    else:
        link = select(ClaimMatch.article_id.label("article_id")).where(ClaimMatch.claim_id == key)
    linked = link.subquery()
    return (
        select(Article.id)
        .join(linked, linked.c.article_id == Article.id)
        .where(Article.state == ArticleState.DONE, Article.dated_at >= start, Article.dated_at < end)
        .distinct()
    )


def spike_sources(
    session: Session, kind: str, key: str, start: datetime, end: datetime, limit: int = 5
) -> list[Counted]:
    """The outlets that carried the key most in the bucket: articles each, most first."""
    articles = func.count(Article.id)
    query = (
        select(Article.source, articles)
        .where(Article.id.in_(_carrying(kind, key, start, end).scalar_subquery()))
        .group_by(Article.source)
        .order_by(articles.desc(), Article.source)
        .limit(limit)
    )
    return [
        Counted(source or "", source or "(unknown outlet)", int(n)) for source, n in session.execute(query)
    ]


def spike_entities(
    session: Session, kind: str, key: str, start: datetime, end: datetime, limit: int = 5
) -> list[Counted]:
    """The entities mentioned in the bucket's articles that carry the key (the key itself
    left out): articles each, most first."""
    articles = func.count(Mention.article_id.distinct())
    query = (
        select(Mention.entity_id, Entity.name, articles)
        .join(Entity, Entity.id == Mention.entity_id)
        .where(Mention.article_id.in_(_carrying(kind, key, start, end).scalar_subquery()))
        .group_by(Mention.entity_id, Entity.name)
        .order_by(articles.desc(), Mention.entity_id)
        .limit(limit + 1)
    )
    found = [
        Counted(entity_id, name, int(n))
        for entity_id, name, n in session.execute(query)
        if not (kind == "entity" and entity_id == key)
    ]
    return found[:limit]


def spike_stories(
    session: Session, kind: str, key: str, start: datetime, end: datetime, limit: int = 5
) -> list[Counted]:
    """The bucket's stories that carry the key, most articles first: each named by its first
    article's title and address (``article.story_id``; an article not grouped yet is a story
    of its own)."""
    story = func.coalesce(Article.story_id, Article.id)
    counted = (
        select(story.label("story_id"), func.count(Article.id).label("articles"))
        .where(Article.id.in_(_carrying(kind, key, start, end).scalar_subquery()))
        .group_by(story)
        .subquery()
    )
    first = aliased(Article)
    query = (
        select(counted.c.story_id, first.title, first.url, counted.c.articles)
        .join(first, first.id == counted.c.story_id)
        .order_by(counted.c.articles.desc(), first.dated_at, counted.c.story_id)
        .limit(limit)
    )
    return [
        Counted(str(story_id), title or url, int(n), url=url)
        for story_id, title, url, n in session.execute(query)
    ]
