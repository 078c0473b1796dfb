"""SQLAlchemy 2.x typed models: what the store keeps, nothing else.

An article is one row per canonical URL. The same story syndicated under a second URL gets
its own row in state ``duplicate`` pointing at the first (``duplicate_of_id``), so each URL
is known once and the text, mentions and matches are stored once.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ingest.dates import DateSource
from ingest.outcomes import PollOutcome
from notify.kinds import DeliveryState, MessageKind, Mode

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo on the way back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class FeedState(enum.StrEnum):
    ACTIVE = "active"
    DEAD = "dead"


class ArticleState(enum.StrEnum):
    PENDING = "pending"  # accepted from a feed, not yet fetched
    FETCHED = "fetched"  # page downloaded and staged (service only), waiting for extraction
    DONE = "done"  # fetched, cleaned, matched
    DUPLICATE = "duplicate"  # same content as another article (duplicate_of_id)
    FAILED = "failed"  # could not be fetched or extracted; error says why


class Feed(Base):
    __tablename__ = "feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[FeedState] = mapped_column(
        Enum(FeedState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=FeedState.ACTIVE,
    )
    # Conditional GET and unchanged-body detection.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # Scheduling state lives here, not in the broker.
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=1800)
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    failure_score: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetchLog(Base):
    """One row per poll of a feed: errors are data."""

    __tablename__ = "fetch_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feed.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[PollOutcome] = mapped_column(
        Enum(PollOutcome, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    http_status: Mapped[int | None]
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    entries_new: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (
        # The same content is stored once: only one non-duplicate article per fingerprint.
        Index(
            "uq_article_content_hash_original",
            "content_hash",
            unique=True,
            postgresql_where=text("duplicate_of_id IS NULL"),
            sqlite_where=text("duplicate_of_id IS NULL"),
        ),
        Index("ix_article_state", "state"),
        Index("ix_article_created_at", "created_at"),
        # Trend reports and search filter stored articles by date, then by outlet.
        Index("ix_article_dated_at", "dated_at"),
        Index("ix_article_source_dated_at", "source", "dated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feed.id", ondelete="SET NULL"), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(2048))
    state: Mapped[ArticleState] = mapped_column(
        Enum(ArticleState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=ArticleState.PENDING,
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # fetches tried (soft failures retry)
    # From the feed entry (kept even if the page cannot be fetched).
    feed_title: Mapped[str | None] = mapped_column(Text)
    feed_summary: Mapped[str | None] = mapped_column(Text)
    # From the page.
    final_url: Mapped[str | None] = mapped_column(String(2048))
    http_status: Mapped[int | None]
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(16))
    published: Mapped[datetime | None]
    # Where ``published`` came from (page metadata, feed entry, URL pattern or first seen),
    # and, when a candidate date was refused (in the future, before the feed existed), why.
    published_source: Mapped[DateSource | None] = mapped_column(_enum(DateSource))
    date_note: Mapped[str | None] = mapped_column(Text)
    # The date trends count by: ``published``, else first seen (``created_at``).
    dated_at: Mapped[datetime | None]
    # The outlet: the canonical URL's host without ``www.`` (reports filter and group by it).
    source: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    raw_html: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"))
    relevance: Mapped[float | None] = mapped_column(Float)
    # The story this article tells: the id of the story's first article (its own id if first).
    story_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"), index=True)
    # The matcher it was matched with (``Matcher.version``): the knowledge base's version and a
    # digest of the calibration, relevance model and matching settings.
    kb_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last change of any kind: the sweeper measures "stuck" from here, not from creation.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    processed_at: Mapped[datetime | None]
    # The worker task working on the article (fetch or extract) holds it until ``lease_until``
    # and renews it while it works; a lease that ran out means its worker died (services/leases.py).
    lease_until: Mapped[datetime | None] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200))

    feed: Mapped[Feed | None] = relationship()
    mentions: Mapped[list[Mention]] = relationship(back_populates="article", cascade="all, delete-orphan")
    claim_matches: Mapped[list[ClaimMatch]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )


class Page(Base):
    """A downloaded page waiting for the CPU-bound extract step (the service's hand-over between
    the network queue and the CPU queue; bodies never travel through the broker). Deleted when
    the article is extracted."""

    __tablename__ = "page"

    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    final_url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class Entity(Base):
    """A knowledge-base entity, synced from the KB file (the file stays the source of truth)."""

    __tablename__ = "entity"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(40))
    aliases: Mapped[list[str]] = mapped_column(default=list)


class Claim(Base):
    __tablename__ = "claim"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    statement: Mapped[str] = mapped_column(Text)
    entity_ids: Mapped[list[str]] = mapped_column(default=list)
    source: Mapped[str | None] = mapped_column(String(300))


class KbVersion(Base):
    """A matcher version (``Matcher.version``: knowledge base, calibration, relevance model,
    settings) a worker has run, and when one first did (workers only: ``services.rematch``). Stored
    articles are brought up to the newest (``services.rematch``); a worker of an older version
    still running during a rollout sees it is not the newest and leaves them alone."""

    __tablename__ = "kb_version"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(Base):
    __tablename__ = "mention"
    __table_args__ = (UniqueConstraint("article_id", "entity_id", "start", name="uq_mention_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    text: Mapped[str] = mapped_column(String(300))

    article: Mapped[Article] = relationship(back_populates="mentions")


class ClaimMatch(Base):
    __tablename__ = "claim_match"
    __table_args__ = (UniqueConstraint("article_id", "claim_id", name="uq_claim_match_article_claim"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[str] = mapped_column(Text)
    evidence_start: Mapped[int]
    evidence_end: Mapped[int]
    stance: Mapped[str | None] = mapped_column(String(20))
    # What decided the match (matching.claims.ClaimHit.features), for "why this matched".
    features: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="claim_matches")


class Subscription(Base):
    """Who receives what, how often and when. No filter means everything on the theme."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    # An email address, or an Apprise URL (Slack, Teams, a JSON webhook, ...).
    address: Mapped[str] = mapped_column(String(2048))
    entity_ids: Mapped[list[str]] = mapped_column(default=list)
    claim_ids: Mapped[list[str]] = mapped_column(default=list)
    stances: Mapped[list[str]] = mapped_column(default=list)
    min_relevance: Mapped[float | None] = mapped_column(Float)
    muted_sources: Mapped[list[str]] = mapped_column(default=list)
    muted_keywords: Mapped[list[str]] = mapped_column(default=list)
    mode: Mapped[Mode] = mapped_column(_enum(Mode), default=Mode.DAILY)
    at_local: Mapped[str] = mapped_column(String(5), default="07:00")  # HH:MM in ``timezone``
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # weekly digests: 0 = Monday
    send_empty: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unsubscribed_at: Mapped[datetime | None]


class Delivery(Base):
    """The outbox: every message is a row, committed before it is sent. The unique key per
    (subscription, kind, window) is what makes two schedulers send one digest, and the stored
    Message-ID what makes a resend after a crash recognisable as the same message."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "kind", "window_key", name="uq_delivery_window"),
        Index("ix_delivery_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscription.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind))
    window_key: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    message: Mapped[bytes] = mapped_column(LargeBinary)  # the whole MIME message, as sent
    items: Mapped[int] = mapped_column(Integer, default=0)  # stories or matches it carries
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class TrendCount(Base):
    """Daily counts per outlet that trend reports sum instead of recounting articles.

    Maintained by the write path in the transaction that stores an article's matches
    (``schema.rollup``), so it never needs a full recount. One row per
    (kind, key, stance, UTC day, outlet):

    - ``articles``: stored articles, ``key`` = relevance band (so any on-theme threshold works)
    - ``entity``: articles mentioning entity ``key``
    - ``claim``: articles matching claim ``key`` with ``stance``

    Reports over all outlets read :class:`TrendTotal` and :class:`TrendHour` instead: the
    same counters summed over outlets (twenty times fewer rows to add up).
    """

    __tablename__ = "trend_count"
    __table_args__ = (
        Index("ix_trend_count_kind_day", "kind", "day"),
        # One outlet's counters as one index range (``--source``), not a filter over them all.
        Index("ix_trend_count_source_kind_day", "source", "kind", "day"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    stance: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TrendTotal(Base):
    """:class:`TrendCount` summed over outlets, one row per (kind, UTC day, key, stance), plus
    ``pair`` counters (key ``"a|b"``: articles mentioning both entity ``a`` and entity ``b``,
    each pair in both orders) for what co-occurs with an entity, and ``source`` counters (key:
    the outlet) for top outlets. The primary key starts with
    the kind and the day, so a period's counters are one index range."""

    __tablename__ = "trend_total"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(201), primary_key=True)
    stance: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TrendHour(Base):
    """The ``articles``, ``entity`` and ``claim`` counters of :class:`TrendTotal` per UTC hour:
    hourly timelines and spike tests, and days in any time zone whose offset is whole hours."""

    __tablename__ = "trend_hour"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    stance: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
