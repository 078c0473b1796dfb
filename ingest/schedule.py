"""When to poll a feed next: per-feed schedule arithmetic, pure (the poller stores the result).

Schedule rules, after Media Cloud's rss-fetcher:

* a successful poll adapts the interval to the share of entries already seen: all old →
  poll less often (×1.5), mostly new → more often (÷1.5), bounded by ``MIN_INTERVAL``,
  ``MAX_INTERVAL`` and never below what the feed itself advertises (RSS ``ttl``,
  ``sy:updatePeriod``);
* 304 Not Modified and an unchanged body count as "all old";
* a poll that left entries for the next one (the per-poll cap) never lengthens the interval,
  and the next poll comes after ``BACKLOG_DELAY``: the cap paces a long feed, the schedule
  must not stretch that pacing into days (not even to the feed's advertised ``ttl``: the next
  poll reads on in the same document, it does not look for news);
* soft failures (404, 429, 5xx, network) add 0.5 to the failure score, hard failures 1.0;
  the next attempt backs off exponentially in the score, honouring ``Retry-After``;
* a feed whose score reaches ``DEAD_SCORE`` with no success for ``DEAD_AFTER`` is dead:
  reported, no longer polled until re-added.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_INTERVAL = timedelta(minutes=30)
MAX_INTERVAL = timedelta(hours=12)
MAX_BACKOFF = timedelta(days=1)
DEAD_SCORE = 10.0
DEAD_AFTER = timedelta(days=3)
#: When a feed with entries left over is polled again.
BACKLOG_DELAY = MIN_INTERVAL


@dataclass(frozen=True)
class Schedule:
    interval: timedelta
    failure_score: float
    next_poll_at: datetime
    dead: bool = False


def after_success(
    schedule: Schedule,
    now: datetime,
    *,
    seen_share: float,
    advertised_minutes: int | None = None,
    backlog: bool = False,
) -> Schedule:
    """Next schedule after a poll that worked (``seen_share`` 1.0 for 304/unchanged).

    ``backlog``: the poll left entries for the next one; the interval may shorten, not
    lengthen, and the next poll is due after ``BACKLOG_DELAY``.
    """
    interval = schedule.interval
    if seen_share >= 0.99:
        interval *= 1.5
    elif seen_share < 0.5:
        interval /= 1.5
    floor = max(MIN_INTERVAL, timedelta(minutes=advertised_minutes or 0))
    interval = min(max(interval, floor), max(MAX_INTERVAL, floor))
    if backlog:
        interval = min(interval, max(schedule.interval, MIN_INTERVAL))
    interval = timedelta(seconds=round(interval.total_seconds()))
    next_poll_at = now + (min(BACKLOG_DELAY, interval) if backlog else interval)
    return Schedule(interval=interval, failure_score=0.0, next_poll_at=next_poll_at)


def after_failure(
    schedule: Schedule,
    now: datetime,
    *,
    soft: bool,
    last_success_at: datetime | None,
    created_at: datetime,
    retry_after: float | None = None,
) -> Schedule:
    """Next schedule after a failed poll: exponential backoff in the failure score."""
    score = schedule.failure_score + (0.5 if soft else 1.0)
    backoff = min(schedule.interval * (2**score), MAX_BACKOFF)
    if retry_after is not None:
        backoff = max(backoff, timedelta(seconds=retry_after))
    quiet_since = last_success_at or created_at
    dead = score >= DEAD_SCORE and now - quiet_since >= DEAD_AFTER
    return replace(schedule, failure_score=score, next_poll_at=now + backoff, dead=dead)
