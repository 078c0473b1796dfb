"""Subscriptions: add (validated against the knowledge base), list, remove, unsubscribe.

Each function is one transaction. A bad value (an unknown entity or claim, a zone that is not
an IANA name, an address that is neither email nor a notification URL) is a
:class:`SubscriptionError` naming it, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matching.kb import KnowledgeBase
from matching.stance import Stance
from notify.addresses import address_kind
from notify.kinds import Mode
from notify.schedule import ScheduleError, parse_local_time, zone
from schema.models import Subscription

STANCES = frozenset(get_args(Stance))


class SubscriptionError(ValueError):
    """A subscription that cannot be kept as asked, with the reason."""


@dataclass(frozen=True)
class NewSubscription:
    address: str
    mode: Mode = Mode.DAILY
    at_local: str = "07:00"
    timezone: str = "UTC"
    weekday: int = 0
    entity_ids: tuple[str, ...] = ()
    claim_ids: tuple[str, ...] = ()
    stances: tuple[str, ...] = ()
    min_relevance: float | None = None
    muted_sources: tuple[str, ...] = ()
    muted_keywords: tuple[str, ...] = field(default=())
    send_empty: bool = False


def check(new: NewSubscription, kb: KnowledgeBase) -> None:
    """Raise :class:`SubscriptionError` for the first value that cannot be kept."""
    if address_kind(new.address) is None:
        raise SubscriptionError(
            f"{new.address!r} is neither an email address nor an Apprise notification URL "
            "(e.g. json://host/path, slack://..., msteams://...)"
        )
    known_entities = {e.id for e in kb.entities}
    known_claims = {c.id for c in kb.claims}
    for value, known, what in (
        (new.entity_ids, known_entities, "entity"),
        (new.claim_ids, known_claims, "claim"),
        (new.stances, STANCES, "stance"),
    ):
        unknown = sorted(set(value) - known)
        if unknown:
            raise SubscriptionError(f"unknown {what}: {', '.join(unknown)} (see `mediamon kb show`)")
    if new.min_relevance is not None and not 0 <= new.min_relevance <= 1:
        raise SubscriptionError(f"--min-relevance must be between 0 and 1, got {new.min_relevance}")
    if not 0 <= new.weekday <= 6:
        raise SubscriptionError("weekday must be 0 (Monday) to 6 (Sunday)")
    try:
        parse_local_time(new.at_local)
        zone(new.timezone)
    except ScheduleError as exc:
        raise SubscriptionError(str(exc)) from exc


def add_subscription(sessions: sessionmaker[Session], new: NewSubscription, kb: KnowledgeBase) -> int:
    check(new, kb)
    with sessions.begin() as session:
        row = Subscription(
            address=new.address.strip(),
            mode=new.mode,
            at_local=new.at_local,
            timezone=new.timezone,
            weekday=new.weekday,
            entity_ids=list(new.entity_ids),
            claim_ids=list(new.claim_ids),
            stances=list(new.stances),
            min_relevance=new.min_relevance,
            muted_sources=[s.lower() for s in new.muted_sources],
            muted_keywords=list(new.muted_keywords),
            send_empty=new.send_empty,
        )
        session.add(row)
        session.flush()
        return row.id


def list_subscriptions(sessions: sessionmaker[Session]) -> Sequence[Subscription]:
    with sessions() as session:
        return session.scalars(select(Subscription).order_by(Subscription.id)).all()


def remove_subscription(sessions: sessionmaker[Session], subscription_id: int) -> bool:
    """Delete the subscription and its outbox rows; False if there was none."""
    with sessions.begin() as session:
        row = session.get(Subscription, subscription_id)
        if row is None:
            return False
        session.delete(row)
        return True


def unsubscribe(sessions: sessionmaker[Session], subscription_id: int, now: datetime) -> bool:
    """Stop sending (kept for the record); safe to repeat. False if there is no such subscription."""
    with sessions.begin() as session:
        row = session.get(Subscription, subscription_id)
        if row is None:
            return False
        if row.active:
            row.active, row.unsubscribed_at = False, now
        return True
