"""Beat entries as data. Beat only runs dispatchers; each feed's own schedule lives in its row
(``feed.next_poll_at``) and each digest's in the outbox's unique key, so adding beat processes
or workers never changes what is polled or sent. Delivery runs once a secret key is set."""

from __future__ import annotations

from typing import Any

from config.settings import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    entries = {
        "dispatch-due-feeds": {
            "task": "workers.tasks.dispatch_due_feeds",
            "schedule": settings.dispatch_interval_s,
            # A backlog of dispatches is pointless: the next one sees the same due feeds.
            "options": {"expires": settings.dispatch_interval_s},
        },
        "sweep-stale-articles": {
            "task": "workers.tasks.sweep_stale_articles",
            "schedule": settings.sweep_interval_s,
            "kwargs": {"older_than_s": settings.sweep_after_s},
            "options": {"expires": settings.sweep_interval_s},
        },
        "rematch-stale-articles": {
            "task": "workers.tasks.rematch_stale",
            "schedule": settings.rematch_interval_s,
            "options": {"expires": settings.rematch_interval_s},
        },
    }
    if settings.delivery_configured:
        entries["dispatch-deliveries"] = {
            "task": "workers.tasks.dispatch_deliveries",
            "schedule": settings.delivery_interval_s,
            "options": {"expires": settings.delivery_interval_s},
        }
    return entries
