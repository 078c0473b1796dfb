"""Which articles to process, which are stored, and their duplicates.

Functions take a Session and return rows or plain values; they never commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from schema.models import Article, ArticleState, ClaimMatch, Mention


def pending_article_ids(session: Session, feed_ids: Sequence[int] | None = None) -> list[int]:
    """Articles accepted from a feed but not yet processed (new, or left by a crash)."""
    query = select(Article.id).where(Article.state == ArticleState.PENDING).order_by(Article.id)
    if feed_ids is not None:
        query = query.where(Article.feed_id.in_(feed_ids))
    return list(session.scalars(query))


def stale_article_ids(
    session: Session, state: ArticleState, changed_before: datetime, limit: int
) -> list[int]:
    """Articles in ``state`` unchanged long enough that their task was surely lost (the sweeper's query)."""
    query = (
        select(Article.id)
        .where(Article.state == state, Article.updated_at < changed_before)
        .order_by(Article.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def existing_canonical_urls(session: Session, urls: Sequence[str]) -> set[str]:
    if not urls:
        return set()
    return set(session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(urls))))


def original_with_content(session: Session, content_hash: str, not_id: int) -> int | None:
    """The id of the stored original having this content fingerprint, if any."""
    return session.scalar(
        select(Article.id).where(
            Article.content_hash == content_hash,
            Article.duplicate_of_id.is_(None),
            Article.state == ArticleState.DONE,
            Article.id != not_id,
        )
    )


def stored_articles(
    session: Session,
    *,
    since: datetime | None = None,
    entity_id: str | None = None,
    claim_id: str | None = None,
) -> Select[Article]:
    """Processed original articles (not duplicates), newest first, with mentions and matches loaded."""
    query = (
        select(Article)
        .where(Article.state == ArticleState.DONE)
        .options(
            selectinload(Article.mentions), selectinload(Article.claim_matches), selectinload(Article.feed)
        )
        .order_by(Article.created_at.desc(), Article.id.desc())
    )
    if since is not None:
        query = query.where(func.coalesce(Article.published, Article.created_at) >= since)
    if entity_id is not None:
        query = query.where(Article.mentions.any(Mention.entity_id == entity_id))
    if claim_id is not None:
        query = query.where(Article.claim_matches.any(ClaimMatch.claim_id == claim_id))
    return query


def duplicate_urls(session: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """For each original, the URLs of its syndicated duplicates."""
    rows = session.execute(
        select(Article.duplicate_of_id, Article.url).where(Article.duplicate_of_id.in_(article_ids))
    )
    found: dict[int, list[str]] = {}
    for original_id, url in rows:
        if original_id is not None:
            found.setdefault(original_id, []).append(url)
    return found


def done_article_texts(session: Session, limit: int | None = None) -> Iterator[tuple[int, str]]:
    """(id, text) of processed original articles with text, newest first (for `kb candidates`)."""
    query = (
        select(Article.id, Article.text)
        .where(Article.state == ArticleState.DONE, Article.text.is_not(None))
        .order_by(Article.created_at.desc(), Article.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    for article_id, text in session.execute(query):
        if text:
            yield article_id, text
