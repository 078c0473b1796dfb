"""Sending the outbox: claim a row, hand its stored message to a sender, record the result.

Each step commits on its own: the claim before the send (so two senders never both take a
row), the result after. A transient failure (server down, timeout, 4xx) is retried with
exponential backoff up to ``attempts``; a permanent one (5xx, a bad address) fails the row at
once with the reason. A crash between the server's acceptance and ``mark_sent`` leaves the row
``sending``: when its lease lapses it is sent again, once, with the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notify.kinds import DeliveryState
from notify.mime import from_bytes
from notify.senders import PermanentSendError, Sender, TransientSendError
from schema import outbox
from schema.models import Delivery, Subscription
from schema.queries import delivery as queries
from services.delivery import DeliveryConfig
from services.limits import utc_now

MAX_BACKOFF = timedelta(hours=1)


def list_deliveries(
    sessions: sessionmaker[Session], limit: int = 100, state: DeliveryState | None = None
) -> list[Delivery]:
    """The outbox, newest first (detached rows, for `mediamon deliveries`)."""
    with sessions() as session:
        return list(queries.deliveries(session, limit, state))


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0  # taken by another sender meanwhile
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class OutboxSender:
    sessions: sessionmaker[Session]
    route: Callable[[str], Sender]  # the sender for an address (SMTP or file, or Apprise)
    config: DeliveryConfig
    clock: Callable[[], datetime] = field(default=utc_now)

    def due_ids(self, now: datetime | None = None, limit: int = 500) -> list[int]:
        """Outbox rows to send now (pending and due, or left sending by a crash)."""
        with self.sessions() as session:
            return queries.sendable_ids(session, now or self.clock(), limit)

    def send_due(self, now: datetime | None = None, limit: int = 500) -> SendSummary:
        """Send every row that is due; what fails now is retried by a later call."""
        now = now or self.clock()
        due = self.due_ids(now, limit)
        summary = SendSummary()
        for delivery_id in due:
            state = self.send(delivery_id, now)
            if state is DeliveryState.SENT:
                summary.sent += 1
            elif state is DeliveryState.PENDING:
                summary.retried += 1
            elif state is DeliveryState.FAILED:
                summary.failed += 1
            else:
                summary.skipped += 1
            if state in (DeliveryState.PENDING, DeliveryState.FAILED):
                with self.sessions() as session:
                    row = session.get_one(Delivery, delivery_id)
                    summary.errors.append((delivery_id, row.last_error or ""))
        return summary

    def send(self, delivery_id: int, now: datetime | None = None) -> DeliveryState | None:
        """Send one row if it is due and nobody else has it; returns its new state (None: not taken)."""
        now = now or self.clock()
        with self.sessions.begin() as session:
            if not outbox.claim(session, delivery_id, now, self.config.lease):
                return None
            row = session.execute(
                select(Delivery.message, Delivery.attempts, Subscription.address)
                .join(Subscription, Subscription.id == Delivery.subscription_id)
                .where(Delivery.id == delivery_id)
            ).one()
        # Parsed with the policy it was written with: the bytes go out as they were stored.
        message = from_bytes(row.message)
        try:
            self.route(row.address).send(message)
        except TransientSendError as exc:
            return self._transient(delivery_id, row.attempts, str(exc), now)
        except PermanentSendError as exc:
            with self.sessions.begin() as session:
                outbox.mark_failed(session, delivery_id, str(exc))
            return DeliveryState.FAILED
        with self.sessions.begin() as session:
            outbox.mark_sent(session, delivery_id, self.clock())
        return DeliveryState.SENT

    def _transient(self, delivery_id: int, attempts: int, error: str, now: datetime) -> DeliveryState:
        with self.sessions.begin() as session:
            if attempts >= self.config.attempts:
                outbox.mark_failed(session, delivery_id, f"{error} (gave up after {attempts} attempts)")
                return DeliveryState.FAILED
            wait = min(timedelta(seconds=30 * 2 ** (attempts - 1)), MAX_BACKOFF)
            outbox.mark_retry(session, delivery_id, f"{error} (attempt {attempts}, retrying)", now + wait)
            return DeliveryState.PENDING
