"""What every kind of message shares on its way into the outbox: settings, the envelope, the write.

A message is rendered, then committed to the outbox (``schema.outbox``) with its Message-ID,
and only then sent (``services.sending``). ``services.digests`` and ``services.alerts`` decide
what to write; this module writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from matching.kb import KnowledgeBase
from notify.kinds import DeliveryState, MessageKind
from notify.mime import to_bytes
from notify.records import Envelope
from notify.rules import Filter
from notify.tokens import make_token
from schema import outbox
from schema.models import Subscription
from services.limits import utc_now


@dataclass(frozen=True)
class DeliveryConfig:
    """Delivery's settings (``services.wiring`` fills them from Settings)."""

    mail_from: str
    public_url: str
    secret_key: str
    relevance_threshold: float = 0.3
    alert_debounce_s: int = 60
    alert_hourly_cap: int = 6
    spread_outlets: int = 3
    attempts: int = 8
    unsubscribe_mailto: str | None = None
    lease: timedelta = timedelta(minutes=10)  # a sender that holds a row longer has crashed

    @property
    def domain(self) -> str:
        return urlsplit(self.public_url).hostname or "localhost"


@dataclass
class Planner:
    """What the digest and alert planners share: the store, the KB's words, settings, a clock."""

    sessions: sessionmaker[Session]
    vocabulary: Vocabulary
    config: DeliveryConfig
    clock: Callable[[], datetime] = field(default=utc_now)


@dataclass(frozen=True)
class Vocabulary:
    """What the knowledge base names: claim statements and entity names, for the messages."""

    statements: dict[str, str]
    entity_names: dict[str, str]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> Vocabulary:
        return cls({c.id: c.statement for c in kb.claims}, {e.id: e.name for e in kb.entities})


def rule_of(subscription: Subscription, config: DeliveryConfig) -> Filter:
    return Filter.of(
        entity_ids=subscription.entity_ids,
        claim_ids=subscription.claim_ids,
        stances=subscription.stances,
        min_relevance=subscription.min_relevance,
        default_relevance=config.relevance_threshold,
        muted_sources=subscription.muted_sources,
        muted_keywords=subscription.muted_keywords,
    )


def unsubscribe_url(config: DeliveryConfig, subscription_id: int) -> str:
    return f"{config.public_url.rstrip('/')}/unsubscribe/{make_token(config.secret_key, subscription_id)}"


def envelope(
    config: DeliveryConfig, subscription: Subscription, kind: MessageKind, now: datetime
) -> Envelope:
    """Headers of one message: a new Message-ID (stored with the row), List-Id, unsubscribe links."""
    mailto = None
    if config.unsubscribe_mailto:
        token = make_token(config.secret_key, subscription.id)
        mailto = f"mailto:{config.unsubscribe_mailto}?subject={quote('unsubscribe ' + token)}"
    return Envelope(
        mail_from=config.mail_from,
        to=subscription.address,
        message_id=make_msgid(idstring=f"{kind.value}.{subscription.id}", domain=config.domain),
        date=now,
        list_id=f"mediamon {kind.value} <{kind.value}.{config.domain}>",
        unsubscribe_url=unsubscribe_url(config, subscription.id),
        unsubscribe_mailto=mailto,
    )


def write(
    session: Session,
    *,
    subscription: Subscription,
    kind: MessageKind,
    key: str,
    window: tuple[datetime, datetime],
    items: int,
    message: EmailMessage | None,
    envelope_used: Envelope | None,
    now: datetime,
) -> int | None:
    """Put one message in the outbox (or, with no message, mark the window done as skipped)."""
    return outbox.add(
        session,
        {
            "subscription_id": subscription.id,
            "kind": kind,
            "window_key": key,
            "window_start": window[0],
            "window_end": window[1],
            "message_id": envelope_used.message_id
            if envelope_used
            else f"<skipped.{kind}.{subscription.id}.{key}>",
            "subject": str(message["Subject"]) if message else "",
            "message": to_bytes(message) if message else b"",
            "items": items,
            "state": DeliveryState.PENDING if message else DeliveryState.SKIPPED,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
