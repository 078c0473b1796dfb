"""Which articles to process, which are stored, their duplicates, and which failed and why.

Functions take a Session and return rows or plain values; they never commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from schema.models import Article, ArticleState, ClaimMatch, KbVersion, Mention


def pending_article_ids(session: Session, feed_ids: Sequence[int] | None = None) -> list[int]:
    """Articles accepted from a feed but not yet processed (new, or left by a crash)."""
    query = select(Article.id).where(Article.state == ArticleState.PENDING).order_by(Article.id)
    if feed_ids is not None:
        query = query.where(Article.feed_id.in_(feed_ids))
    return list(session.scalars(query))


def pending_article_urls(session: Session, feed_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(id, url) of the pending articles of ``feed_ids``, oldest first: the one-shot run takes
    turns between their hosts."""
    query = (
        select(Article.id, Article.url)
        .where(Article.state == ArticleState.PENDING, Article.feed_id.in_(feed_ids))
        .order_by(Article.id)
    )
    return [(article_id, url) for article_id, url in session.execute(query)]


def _rematchable(other_than: str | None) -> list[ColumnElement[bool]]:
    """Stored articles (done, with their text) matched under a matcher version other than
    ``other_than`` (None: every stored article): what rematch takes and status counts."""
    conditions = [Article.state == ArticleState.DONE, Article.text.is_not(None)]
    if other_than is not None:
        conditions.append(or_(Article.kb_version.is_(None), Article.kb_version != other_than))
    return conditions


def articles_to_rematch(
    session: Session, other_than: str | None, after_id: int, limit: int, *, lock: bool = False
) -> list[Article]:
    """Stored articles past ``after_id``, in id order, with their claim matches: those matched
    under a matcher version other than ``other_than`` (None: all).
    With ``lock``, the rows are locked for the transaction and those another transaction holds
    are skipped (PostgreSQL; SQLite has one writer at a time anyway), so workers rematching at
    once take disjoint batches."""
    query = (
        select(Article)
        .where(*_rematchable(other_than), Article.id > after_id)
        .options(selectinload(Article.claim_matches))
        .order_by(Article.id)
        .limit(limit)
    )
    if lock:
        # NO KEY UPDATE: rows pointing at a locked article (a duplicate of it, a story member)
        # can still be written meanwhile; two rematches still exclude each other.
        query = query.with_for_update(of=Article, skip_locked=True, key_share=True)
    return list(session.scalars(query))


def newest_kb_version(session: Session) -> str | None:
    """The matcher version most recently seen first by a worker (None before any)."""
    query = select(KbVersion.version).order_by(KbVersion.first_seen_at.desc(), KbVersion.version).limit(1)
    return session.scalar(query)


def count_awaiting_rematch(session: Session, version: str | None = None) -> int:
    """Stored articles matched under another matcher version than ``version``, or with None
    than the newest a worker runs (the workers' rematch backlog; 0 before any worker ran)."""
    behind = version or newest_kb_version(session)
    if behind is None:
        return 0
    query = select(func.count()).select_from(Article).where(*_rematchable(behind))
    return int(session.scalar(query) or 0)


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
    include_failed: bool = False,
) -> Select[Article]:
    """Processed original articles (not duplicates), newest first, with mentions and matches loaded;
    with ``include_failed``, the articles that failed too, in the same order."""
    states = [ArticleState.DONE, ArticleState.FAILED] if include_failed else [ArticleState.DONE]
    query = (
        select(Article)
        .where(Article.state.in_(states))
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


def articles_in_state(session: Session, state: ArticleState | None, limit: int) -> list[Article]:
    """Up to ``limit`` articles in ``state`` (any state if None), the most recently changed first."""
    query = select(Article).order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Article.state == state)
    return list(session.scalars(query))


def count_in_state(session: Session, state: ArticleState | None) -> int:
    query = select(func.count()).select_from(Article)
    if state is not None:
        query = query.where(Article.state == state)
    return session.scalar(query) or 0


class FailureCount(NamedTuple):
    """Articles sharing one exact failure text: how many, and the first and last URL (examples)."""

    state: ArticleState  # FAILED, or PENDING for a soft failure waiting for its next attempt
    error: str
    articles: int
    first_url: str
    last_url: str


def failure_counts(
    session: Session,
    *,
    feed_ids: Sequence[int] | None = None,
    changed_since: datetime | None = None,
    include_retrying: bool = True,
) -> list[FailureCount]:
    """Failed articles, and (``include_retrying``) pending ones whose last attempt failed,
    counted per exact error text.

    Counted in the database, one row per distinct text, so a store with many failures returns
    a short list; grouping texts that differ only in numbers and names is the caller's.
    ``changed_since`` keeps the articles whose state was last set at or after that moment (the
    failures of one run).
    """
    failed = Article.state == ArticleState.FAILED
    retrying = and_(Article.state == ArticleState.PENDING, Article.error.is_not(None))
    query = (
        select(Article.state, Article.error, func.count(), func.min(Article.url), func.max(Article.url))
        .where(or_(failed, retrying) if include_retrying else failed)
        .group_by(Article.state, Article.error)
    )
    if feed_ids is not None:
        query = query.where(Article.feed_id.in_(feed_ids))
    if changed_since is not None:
        query = query.where(Article.updated_at >= changed_since)
    return [
        FailureCount(state, error or "", count, first, last)
        for state, error, count, first, last in session.execute(query)
    ]
