"""Counts and latencies for `mediamon status` and the Prometheus exporter.

Functions take a Session and return rows or plain values; they never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from schema.models import Article, ClaimMatch, Feed, FeedState, FetchLog, Mention


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
