"""Digests: find the ones due, write each once into the outbox, preview one without sending.

``plan_digests(now)`` is what the beat entry and `mediamon digest run` call. For every active
daily or weekly subscription it takes the latest slot at or before ``now`` (its local hour, in
its zone: ``notify.schedule``); if that slot has no outbox row yet, it builds the digest of what
was stored since the previous digest (the first one: the previous day or week), renders it and
adds it, in one transaction per subscription. Running it twice, or from two schedulers at
once, writes each digest once: the outbox's unique key settles the race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from notify.digest import build_digest
from notify.kinds import MessageKind, Mode
from notify.records import Digest
from notify.render import render_digest
from notify.schedule import Slot, latest_slot, period
from schema.models import Subscription
from schema.queries import delivery as queries
from services.delivery import Planner, envelope, rule_of, write


@dataclass
class DigestPlanner(Planner):
    def plan(self, now: datetime | None = None) -> list[int]:
        """Write every digest due at ``now`` that is not written yet; returns the new rows' ids."""
        now = now or self.clock()
        with self.sessions() as session:
            subscriptions = [
                s.id for s in queries.active_subscriptions(session) if s.mode is not Mode.INSTANT
            ]
        written = []
        for subscription_id in subscriptions:
            with self.sessions.begin() as session:
                new = self._plan_one(session, subscription_id, now)
            if new is not None:
                written.append(new)
        return written

    def _plan_one(self, session: Session, subscription_id: int, now: datetime) -> int | None:
        subscription = session.get(Subscription, subscription_id)
        if subscription is None or not subscription.active:
            return None
        slot = latest_slot(
            subscription.mode, subscription.at_local, subscription.timezone, now, subscription.weekday
        )
        if slot is None or slot.due < subscription.created_at:
            return None  # the first digest is the first slot after subscribing
        if queries.window_exists(session, subscription.id, MessageKind.DIGEST, slot.key):
            return None
        digest = self._digest(session, subscription, slot)
        if digest.empty and not subscription.send_empty:
            return write(
                session,
                subscription=subscription,
                kind=MessageKind.DIGEST,
                key=slot.key,
                window=(digest.window_start, digest.window_end),
                items=0,
                message=None,
                envelope_used=None,
                now=now,
            )
        headers = envelope(self.config, subscription, MessageKind.DIGEST, now)
        return write(
            session,
            subscription=subscription,
            kind=MessageKind.DIGEST,
            key=slot.key,
            window=(digest.window_start, digest.window_end),
            items=digest.story_count,
            message=render_digest(digest, headers),
            envelope_used=headers,
            now=now,
        )

    def preview(self, subscription_id: int, until: datetime | None = None) -> EmailMessage:
        """The digest the subscription would get for the window ending ``until`` (default: now),
        rendered but neither stored nor sent."""
        until = until or self.clock()
        with self.sessions() as session:
            subscription = session.get(Subscription, subscription_id)
            if subscription is None:
                raise LookupError(f"no subscription {subscription_id}")
            mode = Mode.DAILY if subscription.mode is Mode.INSTANT else subscription.mode
            digest = self._digest(session, subscription, Slot(until, "preview"), mode)
            return render_digest(digest, envelope(self.config, subscription, MessageKind.DIGEST, until))

    def _digest(
        self, session: Session, subscription: Subscription, slot: Slot, mode: Mode | None = None
    ) -> Digest:
        mode = mode or subscription.mode
        previous_end = queries.last_window_end(session, subscription.id, MessageKind.DIGEST)
        start = previous_end if previous_end and previous_end < slot.due else slot.due - period(mode)
        before = start - (slot.due - start)
        return build_digest(
            subscription_id=subscription.id,
            address=subscription.address,
            mode=mode,
            timezone=subscription.timezone,
            window=(start, slot.due),
            rule=rule_of(subscription, self.config),
            articles=queries.stored_between(session, start, slot.due),
            statements=self.vocabulary.statements,
            entity_names=self.vocabulary.entity_names,
            seen_before=queries.claims_matched_before(session, start),
            previous_counts=queries.claim_counts(session, before, start),
        )
