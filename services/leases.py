"""Leases: a killed worker's article comes back in about two minutes, a slow one's never.

The service's fetch and extract tasks each *claim* their article before working on it: one
conditional UPDATE sets ``article.lease_until`` (now + ``article_lease_s``) and
``article.lease_owner`` (host, process, a random token), and succeeds only if nobody holds it.
While the task works, a heartbeat thread pushes ``lease_until`` on every
``article_heartbeat_s``; the task's last transaction (the page staged, the article stored or
failed) clears the lease, and so does an exception on the way out. If the worker process is
killed (SIGKILL, the OOM killer, a lost machine) the heartbeat stops with it: the lease runs out
and the sweeper (``workers.tasks.sweep_stale_articles``, every ``sweep_interval_s`` from beat)
clears it and enqueues the article again, whatever the queues hold. With the defaults (60 s
lease, 20 s heartbeat, 30 s sweep) that is 60 to 90 s after the last heartbeat.

A live worker keeps its article however slow it is (a 60 s download after a minute's wait for a
host slot, a long extraction): its heartbeat runs in a thread of its own, so the lease never
runs out under it, and a message for the same article delivered meanwhile (a sweep of an
unclaimed row, Celery's redelivery) finds it held and is dropped. The claim is one UPDATE, so of
two tasks racing for an article exactly one works on it. While the extract transaction has the
article's row locked (``FOR UPDATE``, PostgreSQL), the heartbeat waits for the lock; the
sweeper skips locked rows, so even an extraction longer than the lease is never taken from it.

Why not Celery's own redelivery. The tasks are acknowledged late and rejected when a pool
process dies, so a pool process killed alone has its message requeued at once by its parent
(it then finds the lease held and is dropped; the sweep brings the article back). But when the
whole worker dies, its messages wait in the broker's ``unacked`` hash until kombu's
``visibility_timeout`` (an hour here) has passed. Lowering that to two minutes would redeliver
every task running, or waiting on a retry countdown (backoff up to 120 s), longer than that
while its worker is alive: the duplicates the lease is there to prevent, tied to the longest
task instead of to a heartbeat. The visibility timeout stays an hour as the last resort for
messages a dead worker had taken but not yet started (a redelivered one is dropped if the
article has moved on).

Clocks: the lease times are the workers' clocks (UTC) compared with the sweeper's; machines
whose clocks differ by a fair part of ``article_lease_s`` should not share a database.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from schema.models import ArticleState
from schema.queries import leases
from services.limits import utc_now

log = logging.getLogger("mediamon.leases")


@dataclass(frozen=True)
class LeasePolicy:
    """How long a claim holds without a heartbeat, and how often the holder renews it."""

    lease_s: float = 60.0
    heartbeat_s: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_s * 2 <= self.lease_s:
            raise ValueError(
                f"heartbeat_s ({self.heartbeat_s}) must be at most half of lease_s ({self.lease_s})"
            )


@dataclass(frozen=True)
class Lease:
    """A held claim on one article."""

    article_id: int
    owner: str
    url: str


@dataclass
class Held:
    """A lease kept alive by a heartbeat, for the ``with`` block of :meth:`ArticleLeases.kept`.

    The holder sets ``settled`` once its own last transaction has given the lease back (the
    page staged, the article stored or failed): the block then ends without a statement more.
    Left unset (the block skipped the article, or raised), the lease is released on the way out.
    """

    lease: Lease
    settled: bool = False


def new_owner() -> str:
    """Who holds a lease: host and process (for a person reading the row) and a random token
    (each claim its own, so a later task of the same process never renews an earlier one's)."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(6)}"


@dataclass
class ArticleLeases:
    """Claims on articles over one database (see the module's docstring)."""

    sessions: sessionmaker[Session]
    policy: LeasePolicy = LeasePolicy()
    clock: Callable[[], datetime] = utc_now

    def claim(self, article_id: int, state: ArticleState) -> Lease | None:
        """Take the article in ``state`` if nobody holds it; None if it moved on or is held."""
        with self.sessions.begin() as session:
            return self.claim_in(session, article_id, state)

    def claim_in(self, session: Session, article_id: int, state: ArticleState) -> Lease | None:
        """:meth:`claim` in the caller's transaction (which may read what it needs alongside);
        the claim holds once that commits."""
        owner = new_owner()
        now = self.clock()
        url = leases.claim(session, article_id, state, owner, now, self._until(now))
        return None if url is None else Lease(article_id, owner, url)

    def renew(self, lease: Lease) -> bool:
        with self.sessions.begin() as session:
            return leases.renew(session, lease.article_id, lease.owner, self._until(self.clock()))

    def release(self, lease: Lease) -> None:
        with self.sessions.begin() as session:
            leases.release(session, lease.article_id, lease.owner)

    @contextmanager
    def holding(self, article_id: int, state: ArticleState) -> Iterator[Held | None]:
        """Claim the article and keep the claim alive for the ``with`` block (None: not taken,
        leave it), as :meth:`kept`."""
        lease = self.claim(article_id, state)
        if lease is None:
            yield None
            return
        with self.kept(lease) as held:
            yield held

    @contextmanager
    def kept(self, lease: Lease) -> Iterator[Held]:
        """Renew ``lease`` every heartbeat while the ``with`` block runs; on the way out, give it
        back unless the block settled it (:class:`Held`)."""
        held = Held(lease)
        stop = threading.Event()
        beat = threading.Thread(
            target=self._beat, args=(lease, stop), name=f"lease-{lease.article_id}", daemon=True
        )
        beat.start()
        try:
            yield held
        finally:
            stop.set()
            beat.join(timeout=self.policy.lease_s)
            if not held.settled:
                self._release_quietly(lease)

    def reclaim_expired(self, limit: int) -> list[tuple[int, ArticleState]]:
        """Articles whose holder stopped renewing (its worker died): their leases cleared and
        committed, for the caller to enqueue again."""
        with self.sessions.begin() as session:
            return leases.reclaim_expired(session, self.clock(), limit)

    def _release_quietly(self, lease: Lease) -> None:
        try:
            self.release(lease)
        except SQLAlchemyError:
            # The database is away: the lease runs out and the sweeper brings the article back.
            log.warning("could not release the lease on article %d", lease.article_id, exc_info=True)

    def _until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.policy.lease_s)

    def _beat(self, lease: Lease, stop: threading.Event) -> None:
        while not stop.wait(self.policy.heartbeat_s):
            try:
                held = self.renew(lease)
            except SQLAlchemyError:
                # Try again at the next beat: one missed renewal still leaves half a lease.
                log.warning("lease heartbeat for article %d failed", lease.article_id, exc_info=True)
                continue
            if not held:
                return  # the article moved on (or was taken over): nothing left to keep
