"""Managing the feed list: add, list, remove, OPML in and out, and choosing the feeds of a run.

Each function is one transaction over a session factory; the CLI only parses and prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ingest.feeds import FeedSource, read_feed_list
from schema import queries, writes
from schema.models import Feed


def add_feeds(sessions: sessionmaker[Session], sources: Sequence[FeedSource]) -> int:
    """Add feeds not yet known; returns how many were new."""
    with sessions.begin() as session:
        return writes.add_feeds(session, sources)


def list_feeds(sessions: sessionmaker[Session]) -> Sequence[Feed]:
    """Every feed with its state and schedule (detached rows, for display)."""
    with sessions() as session:
        return queries.all_feeds(session)


def remove_feeds(sessions: sessionmaker[Session], items: Sequence[str]) -> int:
    """Remove feeds given by id or URL (their articles are kept); returns how many went."""
    ids = [int(i) for i in items if i.isdigit()]
    urls = [i for i in items if not i.isdigit()]
    with sessions.begin() as session:
        return writes.remove_feeds(session, ids, urls)


def feed_sources(sessions: sessionmaker[Session]) -> list[FeedSource]:
    """The feed list as sources (for OPML export)."""
    return [FeedSource(feed.url, feed.title) for feed in list_feeds(sessions)]


@dataclass(frozen=True)
class RunFeeds:
    feed_ids: list[int]
    seeded_from_default: int = 0  # feeds loaded from the default list because there were none


def feeds_for_run(
    sessions: sessionmaker[Session], sources: Sequence[FeedSource] | None, default_list: Path
) -> RunFeeds:
    """The feeds a one-shot run polls: ``sources`` if given (added if new), else every active
    feed; with neither, the default list is loaded first so a fresh install has work to do."""
    seeded = 0
    with sessions.begin() as session:
        if sources is None and not queries.active_feeds(session):
            sources = read_feed_list(default_list)
            seeded = len(sources)
        if sources is not None:
            writes.add_feeds(session, sources)
            feeds = queries.feeds_by_url(session, [s.url for s in sources])
        else:
            feeds = queries.active_feeds(session)
        return RunFeeds([feed.id for feed in feeds], seeded)
