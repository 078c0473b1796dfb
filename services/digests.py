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

from sqlalchemy.orm import Session, sessionmaker

from notify.digest import build_digest
from notify.kinds import MessageKind, Mode
from notify.records import Digest, SpikeNote
from notify.render import render_digest
from notify.rules import StoredArticle
from notify.schedule import Slot, latest_slot, period
from schema.models import Subscription
from schema.queries import delivery as queries
from services.delivery import Planner, envelope, rule_of, write
from services.spikes import SpikeQuery, spikes


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
        windows: dict[tuple[datetime, datetime], StoredWindow] = {}  # readers at one hour share a window
        for subscription_id in subscriptions:
            with self.sessions.begin() as session:
                new = self._plan_one(session, subscription_id, now, windows)
            if new is not None:
                written.append(new)
        return written

    def _plan_one(
        self,
        session: Session,
        subscription_id: int,
        now: datetime,
        windows: dict[tuple[datetime, datetime], StoredWindow],
    ) -> int | None:
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
        digest = self._digest(session, subscription, slot, windows=windows)
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
            digest = self._digest(session, subscription, Slot(until, "preview"), mode, {})
            return render_digest(digest, envelope(self.config, subscription, MessageKind.DIGEST, until))

    def _digest(
        self,
        session: Session,
        subscription: Subscription,
        slot: Slot,
        mode: Mode | None = None,
        windows: dict[tuple[datetime, datetime], StoredWindow] | None = None,
    ) -> Digest:
        mode = mode or subscription.mode
        previous_end = queries.last_window_end(session, subscription.id, MessageKind.DIGEST)
        start = previous_end if previous_end and previous_end < slot.due else slot.due - period(mode)
        windows = {} if windows is None else windows
        if (start, slot.due) not in windows:
            windows[(start, slot.due)] = StoredWindow.read(self.sessions, session, start, slot.due)
        stored = windows[(start, slot.due)]
        return build_digest(
            subscription_id=subscription.id,
            address=subscription.address,
            mode=mode,
            timezone=subscription.timezone,
            window=(start, slot.due),
            rule=rule_of(subscription, self.config),
            articles=stored.articles,
            statements=self.vocabulary.statements,
            entity_names=self.vocabulary.entity_names,
            seen_before=stored.seen_before,
            previous_counts=stored.previous_counts,
            spikes=stored.spikes,
        )


@dataclass(frozen=True)
class StoredWindow:
    """What a digest window holds, read once per planning round for every reader whose digest
    covers the same window (a thousand readers at 07:00 Karachi time are one query, not a
    thousand)."""

    articles: list[StoredArticle]
    seen_before: frozenset[str]  # claims matched before the window: "first seen" is the others
    previous_counts: dict[str, int]  # each claim's matches in the window before: "growing"
    spikes: tuple[SpikeNote, ...]  # spiking days of the window, for every reader to filter

    @classmethod
    def read(
        cls, sessions: sessionmaker[Session], session: Session, start: datetime, end: datetime
    ) -> StoredWindow:
        return cls(
            queries.stored_between(session, start, end),
            queries.claims_matched_before(session, start),
            queries.claim_counts(session, start - (end - start), start),
            spike_notes(sessions, start, end),
        )


def spike_notes(sessions: sessionmaker[Session], start: datetime, end: datetime) -> tuple[SpikeNote, ...]:
    """The UTC days of the window that spike, for any entity or claim, strongest first (the
    same test as `mediamon report spikes`, at normal sensitivity, unexplained: a digest says
    only what spiked and by how much)."""
    found = spikes(sessions, SpikeQuery(since=start, until=end, explain=0, now=end))
    return tuple(
        SpikeNote(s.spike.kind, s.spike.key, s.label, s.spike.start, s.spike.observed, s.spike.expected)
        for s in found.spikes
    )
