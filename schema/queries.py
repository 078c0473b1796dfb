"""The ONE place each query condition is written: feeds to poll, articles to process, exports.

Functions take a Session and return rows or plain values; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from schema.models import Article, ArticleState, ClaimMatch, Feed, FeedState, FetchLog, Mention


def active_feeds(session: Session) -> Sequence[Feed]:
    return session.scalars(select(Feed).where(Feed.state == FeedState.ACTIVE).order_by(Feed.id)).all()


def feeds_by_url(session: Session, urls: Sequence[str]) -> Sequence[Feed]:
    return session.scalars(select(Feed).where(Feed.url.in_(urls)).order_by(Feed.id)).all()


def due_feeds(session: Session, now: datetime, limit: int = 100) -> Sequence[Feed]:
    """Active feeds whose next poll time has come (never polled counts as due)."""
    query = (
        select(Feed)
        .where(Feed.state == FeedState.ACTIVE, or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
        .order_by(Feed.next_poll_at.nulls_first(), Feed.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two dispatchers never take the same feed.
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


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


def feed_counts(session: Session, now: datetime) -> dict[str, int]:
    """Feeds by health, for `mediamon status`."""
    active = Feed.state == FeedState.ACTIVE
    due = or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now)
    return {
        "active": session.scalar(select(func.count()).where(active)) or 0,
        "due": session.scalar(select(func.count()).where(active, due)) or 0,
        "failing": session.scalar(select(func.count()).where(active, Feed.failure_score > 0)) or 0,
        "dead": session.scalar(select(func.count()).where(Feed.state == FeedState.DEAD)) or 0,
    }


def article_counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Article.state, func.count()).group_by(Article.state))
    return {str(state): count for state, count in rows}


def counts(session: Session) -> dict[str, int]:
    """Totals for summaries: articles, mentions, claim matches."""
    return {
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "mentions": session.scalar(select(func.count()).select_from(Mention)) or 0,
        "claim_matches": session.scalar(select(func.count()).select_from(ClaimMatch)) or 0,
    }


def poll_counts_by_outcome(session: Session) -> dict[str, int]:
    rows = session.execute(select(FetchLog.outcome, func.count()).group_by(FetchLog.outcome))
    return {str(outcome): count for outcome, count in rows}


def recent_article_latencies(session: Session, since: datetime) -> list[float]:
    """Seconds from acceptance to processing for articles processed since ``since``."""
    rows = session.execute(
        select(Article.created_at, Article.processed_at).where(Article.processed_at >= since)
    )
    return [(done - created).total_seconds() for created, done in rows if done and created]


def recent_poll_durations(session: Session, since: datetime) -> list[float]:
    """Seconds each feed download took, for polls started since ``since``."""
    rows = session.scalars(select(FetchLog.duration_ms).where(FetchLog.started_at >= since))
    return [ms / 1000 for ms in rows]


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
