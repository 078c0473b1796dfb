"""Beat entries as data. Beat only runs dispatchers; each feed's own schedule lives in its row
(``feed.next_poll_at``), so adding beat processes or workers never changes what is polled."""

from __future__ import annotations

from typing import Any

DISPATCH_EVERY_S = 60.0
SWEEP_EVERY_S = 600.0


def beat_schedule() -> dict[str, dict[str, Any]]:
    return {
        "dispatch-due-feeds": {
            "task": "workers.tasks.dispatch_due_feeds",
            "schedule": DISPATCH_EVERY_S,
            "options": {"expires": DISPATCH_EVERY_S},  # a backlog of dispatches is pointless
        },
        "sweep-pending-articles": {
            "task": "workers.tasks.sweep_pending_articles",
            "schedule": SWEEP_EVERY_S,
            "options": {"expires": SWEEP_EVERY_S},
        },
    }
