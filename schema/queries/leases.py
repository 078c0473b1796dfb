"""Leases on articles: the statements that take, renew, give back and reclaim them.

A fetch or extract task holds the article it works on until ``article.lease_until`` and renews
that while it works (``services.leases``). Unlike the other modules here these are UPDATE
statements, each one condition written once; like them, none commits: the caller's transaction
decides. Times are the caller's clock (timezone-aware UTC), as for every other column.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from schema.models import Article, ArticleState

#: The states in which a task works on an article: fetch takes pending ones, extract fetched ones.
LEASABLE = (ArticleState.PENDING, ArticleState.FETCHED)


def claim(
    session: Session, article_id: int, state: ArticleState, owner: str, now: datetime, until: datetime
) -> str | None:
    """Take the article if it is in ``state`` and nobody holds it (no lease, or one that ran
    out); its URL if taken, None otherwise. One conditional UPDATE, so of two tasks racing for
    the same article exactly one wins, on SQLite as on PostgreSQL."""
    return session.scalar(
        update(Article)
        .where(
            Article.id == article_id,
            Article.state == state,
            or_(Article.lease_until.is_(None), Article.lease_until <= now),
        )
        .values(lease_until=until, lease_owner=owner)
        .returning(Article.url)
        .execution_options(synchronize_session=False)
    )


def renew(session: Session, article_id: int, owner: str, until: datetime) -> bool:
    """Push the holder's lease on to ``until``; False if it no longer holds the article (the
    article moved on, or its lease ran out and was reclaimed)."""
    return bool(
        _rowcount(
            session.execute(
                update(Article)
                .where(Article.id == article_id, Article.lease_owner == owner, Article.state.in_(LEASABLE))
                .values(lease_until=until)
                .execution_options(synchronize_session=False)
            )
        )
    )


def release(session: Session, article_id: int, owner: str) -> None:
    """Give the article back (if ``owner`` still holds it)."""
    session.execute(
        update(Article)
        .where(Article.id == article_id, Article.lease_owner == owner)
        .values(lease_until=None, lease_owner=None)
        .execution_options(synchronize_session=False)
    )


def reclaim_expired(session: Session, now: datetime, limit: int) -> list[tuple[int, ArticleState]]:
    """The articles whose lease ran out before ``now`` while they were still on their way (their
    worker died), with their state; their leases are cleared in this transaction.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a row locked by a transaction is being written by a
    live task (the extract transaction locks its article while it cleans and matches, and its
    heartbeat waits for that lock), and two sweepers at once never return the same row.
    """
    rows = [
        (article_id, state)
        for article_id, state in session.execute(
            select(Article.id, Article.state)
            .where(Article.state.in_(LEASABLE), Article.lease_until < now)
            .order_by(Article.lease_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ]
    if rows:
        session.execute(
            update(Article)
            .where(Article.id.in_([article_id for article_id, _ in rows]))
            .values(lease_until=None, lease_owner=None)
            .execution_options(synchronize_session=False)
        )
    return rows


def _rowcount(result: object) -> int:
    """Rows an UPDATE matched (``Session.execute`` is typed as returning a plain Result)."""
    return result.rowcount if isinstance(result, CursorResult) else 0
