"""The outbox's writes: a rendered message is added once, claimed for sending, and its result
recorded. None of them commits; the service layer commits each step on its own, so a message is
in the store before any sender sees it.

Exactly once, as far as a mail system allows it:

* ``add`` inserts with ``ON CONFLICT DO NOTHING`` on (subscription, kind, window): two
  schedulers that plan the same digest write one row, and only the winner sends it;
* ``claim`` is a conditional UPDATE (pending, or sending with a lapsed lease → sending), so two
  senders never both take one row, on SQLite and PostgreSQL alike;
* a crash after the server accepted the message but before ``mark_sent`` leaves the row
  ``sending``; when the lease lapses it is sent again, once, with the same stored Message-ID,
  which receiving systems use to recognise the repeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from notify.kinds import DeliveryState
from schema.db import insert_for
from schema.models import Delivery


def add(session: Session, row: dict[str, Any]) -> int | None:
    """Add a rendered message; returns its id, or None if its window already has one."""
    statement = (
        insert_for(session, Delivery)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["subscription_id", "kind", "window_key"])
        .returning(Delivery.id)
    )
    inserted: int | None = session.scalar(statement)
    return inserted


def claim(session: Session, delivery_id: int, now: datetime, lease: timedelta) -> bool:
    """Take the row for sending if nobody has it (pending and due, or a sender's lease lapsed)."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.next_attempt_at <= now,
            or_(Delivery.state == DeliveryState.PENDING, Delivery.state == DeliveryState.SENDING),
        )
        .values(state=DeliveryState.SENDING, attempts=Delivery.attempts + 1, next_attempt_at=now + lease)
    )
    return int(getattr(result, "rowcount", 0)) == 1


def mark_sent(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state=DeliveryState.SENT, sent_at=now, last_error=None)
    )


def mark_retry(session: Session, delivery_id: int, error: str, at: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state=DeliveryState.PENDING, last_error=error, next_attempt_at=at)
    )


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state=DeliveryState.FAILED, last_error=error)
    )
