"""Which feeds exist and which are due: the dispatcher's and the CLI's feed queries.

Functions take a Session and return rows or plain values; they never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schema.models import Feed, FeedState


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


def all_feeds(session: Session) -> Sequence[Feed]:
    """Every feed, dead ones included, in the order they were added."""
    return session.scalars(select(Feed).order_by(Feed.id)).all()
