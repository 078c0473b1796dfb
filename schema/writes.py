"""Idempotent writes: every function here is safe to run twice. None of them commits.

Unique keys do the work (feed URL, canonical article URL, (article, claim)), through
``INSERT … ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL, so two workers racing on
the same entry cannot both insert it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ingest.dates import DatedArticle, DateSource
from ingest.feeds import FeedSource
from matching.kb import KnowledgeBase
from matching.matcher import MatchResult
from notify.rules import site_of
from schema import rollup
from schema.db import insert_for
from schema.models import Article, ArticleState, Claim, ClaimMatch, Entity, Feed, KbVersion, Mention


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


def dated_columns(dated: DatedArticle) -> dict[str, Any]:
    """An article's date columns from the chosen date: ``published`` stays empty when the only
    date known is first seen, while ``dated_at`` (what trends count by) always has one."""
    return {
        "published": None if dated.source == DateSource.FIRST_SEEN else dated.published,
        "published_source": dated.source,
        "date_note": dated.note,
        "dated_at": dated.published,
    }


def add_pending_articles(session: Session, feed_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Accept entries as pending articles, keyed by canonical URL; returns the ids of new ones."""
    if not rows:
        return []
    statement = (
        insert_for(session, Article)
        .values([{**row, "source": site_of(None, row["canonical_url"]), "feed_id": feed_id} for row in rows])
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


def record_worker_version(session: Session, version: str) -> None:
    """A worker runs matcher ``version`` (``KbVersion``). The first time is kept: a worker of an
    older version restarting mid-rollout stays older."""
    seen = insert_for(session, KbVersion).values(version=version)
    session.execute(seen.on_conflict_do_nothing(index_elements=["version"]))


def replace_matches(session: Session, article: Article, result: MatchResult) -> None:
    """Store an article's mentions and claim matches, replacing any from an earlier run, and
    move its counts in the trend rollup from what was stored to what is stored now.

    Call it with the article's ``state``, ``dated_at``, ``source`` set as they will be stored.
    """
    before = rollup.stored_contribution(session, article.id)
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
            features=dict(c.features) or None,
        )
        for c in result.claims
    )
    article.relevance = result.relevance
    after: Counter[rollup.CounterKey] = Counter()
    if article.state == ArticleState.DONE and article.dated_at is not None:
        after = rollup.contribution(
            article.dated_at,
            article.source,
            result.relevance,
            (m.entity_id for m in result.mentions),
            ((c.claim_id, c.stance) for c in result.claims),
        )
    rollup.apply(session, after, before)
