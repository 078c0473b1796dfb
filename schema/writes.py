"""Idempotent writes: every function here is safe to run twice. None of them commits.

Unique keys do the work (feed URL, canonical article URL, (article, claim)), through
``INSERT … ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL, so two workers racing on
the same entry cannot both insert it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ingest.feeds import FeedSource
from matching.kb import KnowledgeBase
from matching.matcher import MatchResult
from schema.models import Article, Claim, ClaimMatch, Entity, Feed, Mention


def insert_for(session: Session, model: type[Any]) -> Any:
    """A dialect insert that supports ``on_conflict_do_nothing`` (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def add_feeds(session: Session, sources: Iterable[FeedSource]) -> int:
    """Add feeds not yet known; returns how many were new."""
    rows = [{"url": s.url, "title": s.title} for s in sources]
    if not rows:
        return 0
    inserted = session.execute(
        insert_for(session, Feed)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["url"])
        .returning(Feed.id)
    )
    return len(inserted.all())


def remove_feeds(session: Session, ids: Sequence[int], urls: Sequence[str]) -> int:
    """Remove feeds by id or URL (their articles are kept); returns how many were removed."""
    result = session.execute(delete(Feed).where(Feed.id.in_(ids) | Feed.url.in_(urls)))
    return int(getattr(result, "rowcount", 0))


def add_pending_articles(session: Session, feed_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Accept entries as pending articles, keyed by canonical URL; returns the ids of new ones."""
    if not rows:
        return []
    statement = (
        insert_for(session, Article)
        .values([{**row, "feed_id": feed_id} for row in rows])
        .on_conflict_do_nothing(index_elements=["canonical_url"])
        .returning(Article.id)
    )
    return sorted(session.scalars(statement))


def sync_kb(session: Session, kb: KnowledgeBase) -> None:
    """Make the entity and claim tables mirror the knowledge-base file.

    An upsert (safe when several worker processes start at once); rows are never deleted,
    so matches stored under an older version keep their references.
    """
    entities = [{"id": e.id, "name": e.name, "type": e.type, "aliases": list(e.aliases)} for e in kb.entities]
    claims = [
        {"id": c.id, "statement": c.statement, "entity_ids": list(c.entities), "source": c.source}
        for c in kb.claims
    ]
    for model, rows in ((Entity, entities), (Claim, claims)):
        if not rows:
            continue
        statement = insert_for(session, model).values(rows)
        updates = {name: statement.excluded[name] for name in rows[0] if name != "id"}
        session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=updates))


def replace_matches(session: Session, article: Article, result: MatchResult) -> None:
    """Store an article's mentions and claim matches, replacing any from an earlier run."""
    session.execute(delete(Mention).where(Mention.article_id == article.id))
    session.execute(delete(ClaimMatch).where(ClaimMatch.article_id == article.id))
    session.add_all(
        Mention(article_id=article.id, entity_id=m.entity_id, start=m.start, end=m.end, text=m.text[:300])
        for m in result.mentions
    )
    session.add_all(
        ClaimMatch(
            article_id=article.id,
            claim_id=c.claim_id,
            score=c.score,
            method=c.method,
            evidence=c.evidence.text,
            evidence_start=c.evidence.start,
            evidence_end=c.evidence.end,
            stance=c.stance,
        )
        for c in result.claims
    )
    article.relevance = result.relevance
