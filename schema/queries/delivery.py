"""What delivery reads: subscriptions, the articles stored in a window as delivery records,
claim history for "since your last digest", and the outbox.

Functions take a Session and return rows or plain values; they never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from notify.kinds import DeliveryState, MessageKind
from notify.rules import StoredArticle, StoredClaim, site_of
from schema.models import Article, ArticleState, ClaimMatch, Delivery, Subscription


def active_subscriptions(session: Session) -> Sequence[Subscription]:
    return session.scalars(select(Subscription).where(Subscription.active).order_by(Subscription.id)).all()


def stored_between(session: Session, since: datetime, until: datetime) -> list[StoredArticle]:
    """Articles processed in ``[since, until)`` with their mentions, claim matches and the
    duplicates of their text stored under other URLs, as delivery records."""
    rows = session.scalars(
        select(Article)
        .where(
            Article.state == ArticleState.DONE, Article.processed_at >= since, Article.processed_at < until
        )
        .options(selectinload(Article.mentions), selectinload(Article.claim_matches))
        .order_by(Article.processed_at, Article.id)
    ).all()
    copies: dict[int, list[tuple[str, str, datetime]]] = defaultdict(list)
    if rows:
        duplicates = session.execute(
            select(Article.duplicate_of_id, Article.url, Article.site_name, Article.created_at).where(
                Article.duplicate_of_id.in_([a.id for a in rows])
            )
        )
        for original, url, site, seen in duplicates:
            if original is not None:
                copies[original].append((site_of(site, url), url, seen))
    return [_record(article, copies.get(article.id, [])) for article in rows]


def claims_matched_before(session: Session, before: datetime) -> frozenset[str]:
    """Claims with any match on an article processed before ``before``."""
    query = (
        select(ClaimMatch.claim_id)
        .join(Article, Article.id == ClaimMatch.article_id)
        .where(Article.processed_at < before)
        .distinct()
    )
    return frozenset(session.scalars(query))


def claim_counts(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Matches per claim on articles processed in ``[since, until)``."""
    query = (
        select(ClaimMatch.claim_id, func.count())
        .join(Article, Article.id == ClaimMatch.article_id)
        .where(Article.processed_at >= since, Article.processed_at < until)
        .group_by(ClaimMatch.claim_id)
    )
    return {str(claim_id): int(count) for claim_id, count in session.execute(query)}


def last_window_end(session: Session, subscription_id: int, kind: MessageKind) -> datetime | None:
    """Where the subscription's previous message of this kind stopped (None: there was none)."""
    return session.scalar(
        select(func.max(Delivery.window_end)).where(
            Delivery.subscription_id == subscription_id, Delivery.kind == kind
        )
    )


def window_exists(session: Session, subscription_id: int, kind: MessageKind, key: str) -> bool:
    found = session.scalar(
        select(Delivery.id).where(
            Delivery.subscription_id == subscription_id, Delivery.kind == kind, Delivery.window_key == key
        )
    )
    return found is not None


def messages_since(session: Session, subscription_id: int, kind: MessageKind, since: datetime) -> int:
    """Messages of this kind written for the subscription since ``since`` (the hourly cap)."""
    return (
        session.scalar(
            select(func.count()).where(
                Delivery.subscription_id == subscription_id,
                Delivery.kind == kind,
                Delivery.created_at >= since,
                Delivery.state != DeliveryState.SKIPPED,
            )
        )
        or 0
    )


def sendable_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Outbox rows to send now: pending ones whose time has come, and ones left ``sending`` by a
    crash whose lease has run out (they go again, with the same Message-ID)."""
    query = (
        select(Delivery.id)
        .where(
            or_(Delivery.state == DeliveryState.PENDING, Delivery.state == DeliveryState.SENDING),
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def deliveries(session: Session, limit: int = 100, state: DeliveryState | None = None) -> Sequence[Delivery]:
    """The outbox, newest first (for `mediamon deliveries`)."""
    query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Delivery.state == state)
    return session.scalars(query).all()


def _record(article: Article, copies: list[tuple[str, str, datetime]]) -> StoredArticle:
    processed = article.processed_at or article.created_at
    published = article.published or article.created_at
    return StoredArticle(
        article_id=article.id,
        story_id=article.story_id or article.id,
        url=article.url,
        title=article.title or article.feed_title or article.url,
        site=site_of(article.site_name, article.url),
        # A date in the future (a wrong page date) counts as when the article was stored.
        published=min(published, processed),
        stored_at=processed,
        relevance=article.relevance or 0.0,
        entity_ids=frozenset(m.entity_id for m in article.mentions),
        claims=tuple(
            StoredClaim(
                c.claim_id,
                c.score,
                c.stance,
                c.evidence,
                c.evidence_start,
                c.evidence_end,
                method=c.method,
                features=c.features,
            )
            for c in sorted(article.claim_matches, key=lambda c: -c.score)
        ),
        mentions=tuple(sorted((m.entity_id, m.start, m.end) for m in article.mentions)),
        copies=tuple(copies),
    )
