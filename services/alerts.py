"""Instant alerts and claim-spread alerts: decide what goes out now, write it once.

An instant subscription's alert covers what was stored since its previous alert. Debounce: while
matches keep arriving (the newest is younger than ``alert_debounce_s``) the window stays open,
up to five debounce periods, so a burst goes out as one message. Cap: at most
``alert_hourly_cap`` alert messages per subscription per hour; past it the window stays open
and the next message, once the hour allows, carries everything, the first stories listed and
the rest counted ("and N more"): nothing is dropped and nothing is split into many messages.

A claim repeated by ``spread_outlets`` distinct outlets within 24 hours is said once per
subscription that follows the claim (``notify.spread``), keyed by claim and first article.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from notify.digest import build_alert
from notify.kinds import MessageKind, Mode
from notify.records import SpreadAlert
from notify.render import render_alert, render_spread
from notify.rules import StoredArticle, wants
from notify.spread import WITHIN, Spread, find_spreads
from schema.models import Subscription
from schema.queries import delivery as queries
from services.delivery import Planner, envelope, rule_of, write

#: Stories an alert lists; more are counted in the same message.
ALERT_LISTS = 10
#: However busy the news, an open window goes out after this many debounce periods.
MAX_DEBOUNCES = 5
#: How far back an alert window reaches at most.
LOOKBACK = timedelta(days=1)


@dataclass
class AlertPlanner(Planner):
    def plan(self, now: datetime | None = None) -> list[int]:
        """Write the alerts and spread alerts due at ``now``; returns the new rows' ids."""
        now = now or self.clock()
        with self.sessions() as session:
            subscriptions = [s.id for s in queries.active_subscriptions(session) if s.mode is Mode.INSTANT]
            recent = queries.stored_between(session, now - 2 * WITHIN, now) if subscriptions else []
        spreads = find_spreads(recent, min_outlets=self.config.spread_outlets)
        written: list[int] = []
        for subscription_id in subscriptions:
            with self.sessions.begin() as session:
                subscription = session.get(Subscription, subscription_id)
                if subscription is None or not subscription.active:
                    continue
                alert = self._alert(session, subscription, now)
                if alert is not None:
                    written.append(alert)
                written.extend(self._spreads(session, subscription, spreads, recent, now))
        return written

    def _alert(self, session: Session, subscription: Subscription, now: datetime) -> int | None:
        previous = queries.last_window_end(session, subscription.id, MessageKind.ALERT)
        # An alert is about what is new: a window with nothing wanted is never closed by a row,
        # so without a bound it would be re-read from its start at every check. What is older
        # than a day (the service was down) is in the subscriber's digest, not lost.
        # (Floored to the hour: two planners at once must name the same window, and its start is its key.)
        start = max(
            previous or subscription.created_at, (now - LOOKBACK).replace(minute=0, second=0, microsecond=0)
        )
        rule = rule_of(subscription, self.config)
        wanted = [a for a in queries.stored_between(session, start, now) if wants(rule, a)]
        if not wanted:
            return None
        debounce = timedelta(seconds=self.config.alert_debounce_s)
        newest, oldest = max(a.stored_at for a in wanted), min(a.stored_at for a in wanted)
        if now - newest < debounce and now - oldest < MAX_DEBOUNCES * debounce:
            return None  # still arriving: wait for the burst to end
        sent = queries.messages_since(session, subscription.id, MessageKind.ALERT, now - timedelta(hours=1))
        if sent >= self.config.alert_hourly_cap:
            return None  # the window stays open; the next allowed message carries it all
        alert = build_alert(
            subscription_id=subscription.id,
            address=subscription.address,
            timezone=subscription.timezone,
            window=(start, now),
            rule=rule,
            articles=wanted,
            room=ALERT_LISTS,
        )
        if alert is None:
            return None
        headers = envelope(self.config, subscription, MessageKind.ALERT, now)
        return write(
            session,
            subscription=subscription,
            kind=MessageKind.ALERT,
            key=start.isoformat(),
            window=(start, now),
            items=len(alert.stories) + alert.overflow,
            message=render_alert(alert, headers),
            envelope_used=headers,
            now=now,
        )

    def _spreads(
        self,
        session: Session,
        subscription: Subscription,
        spreads: list[Spread],
        recent: list[StoredArticle],
        now: datetime,
    ) -> list[int]:
        rule = rule_of(subscription, self.config)
        followed = {c.claim_id for a in recent if wants(rule, a) for c in a.claims}
        written = []
        for spread in spreads:
            if spread.claim_id not in followed or spread.first.published < subscription.created_at - WITHIN:
                continue
            if queries.window_exists(session, subscription.id, MessageKind.SPREAD, spread.key):
                continue
            alert = SpreadAlert(
                subscription_id=subscription.id,
                address=subscription.address,
                claim_id=spread.claim_id,
                statement=self.vocabulary.statements.get(spread.claim_id, spread.claim_id),
                first=spread.first,
                followers=spread.followers,
                timezone=subscription.timezone,
            )
            headers = envelope(self.config, subscription, MessageKind.SPREAD, now)
            new = write(
                session,
                subscription=subscription,
                kind=MessageKind.SPREAD,
                key=spread.key,
                window=(spread.first.published, now),
                items=spread.outlets,
                message=render_spread(alert, headers),
                envelope_used=headers,
                now=now,
            )
            if new is not None:
                written.append(new)
        return written
