"""The words of delivery: how often a subscription is served, what a message is, where it stands.

Plain enums, stored by the store (``schema.models``) and used by the rules and the renderer.
"""

from __future__ import annotations

import enum


class Mode(enum.StrEnum):
    """How often a subscription is served."""

    INSTANT = "instant"  # alerts as matches arrive (debounced, capped per hour)
    DAILY = "daily"  # one digest a day at the subscriber's local hour
    WEEKLY = "weekly"  # one digest a week, on the subscription's weekday


class MessageKind(enum.StrEnum):
    """What a delivery is; with the subscription and the window it is the delivery's unique key."""

    DIGEST = "digest"
    ALERT = "alert"  # new matches of one debounce window
    SPREAD = "spread"  # one claim repeated by several outlets within a day


class DeliveryState(enum.StrEnum):
    """An outbox row's way: pending → sending → sent, or failed after its attempts."""

    PENDING = "pending"  # rendered and committed, not yet handed to a sender
    SENDING = "sending"  # handed to a sender; a crash here resends once, with the same Message-ID
    SENT = "sent"  # the server accepted it
    SKIPPED = "skipped"  # an empty digest the subscription did not ask for: the window is done
    FAILED = "failed"  # gave up after the attempts; last_error says why
