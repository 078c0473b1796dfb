"""Browsing the store page by page: articles, claim matches, entities, claims and feeds.

The read API and the dashboard call these; each opens one read-only session, runs a keyset
query written once in ``schema.queries.browse`` and returns plain records whose field names
are those of ``mediamon export`` (``services.export``), so a script reading either gets the
same document. Pages are read one row long to tell whether another page follows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from schema import queries
from schema.models import Article, ClaimMatch, Feed
from schema.queries.browse import BrowseFilter, Position
from schema.queries.trends import claim_statements, entity_names

__all__ = [
    "BrowseFilter",
    "Page",
    "Position",
    "UnknownIds",
    "article",
    "articles",
    "check_ids",
    "claims",
    "entities",
    "feed",
    "feed_record",
    "feeds",
    "matches",
]

K = TypeVar("K")


@dataclass(frozen=True)
class Page(Generic[K]):
    """One page of records and where the next one starts (None: this was the last)."""

    items: list[dict[str, Any]]
    next_after: K | None


class UnknownIds(LookupError):
    """A filter names entities or claims the store does not know."""

    def __init__(self, kind: str, unknown: Sequence[str]) -> None:
        super().__init__(f"unknown {kind} id(s): {', '.join(sorted(unknown))}")
        self.kind = kind
        self.unknown = sorted(unknown)


def check_ids(
    sessions: sessionmaker[Session], entity_ids: Sequence[str] = (), claim_ids: Sequence[str] = ()
) -> None:
    """Raise :class:`UnknownIds` when a filter names an entity or claim that does not exist
    (a typo would otherwise read as "nothing happened")."""
    if not entity_ids and not claim_ids:
        return
    with sessions() as session:
        entities, claims_known = queries.known_ids(session)
    if missing := set(entity_ids) - entities:
        raise UnknownIds("entity", sorted(missing))
    if missing := set(claim_ids) - claims_known:
        raise UnknownIds("claim", sorted(missing))


def articles(
    sessions: sessionmaker[Session], where: BrowseFilter, after: Position | None, limit: int
) -> Page[Position]:
    """Stored articles, newest first (by the date trends count them under), without their text."""
    with sessions() as session:
        rows = queries.article_page(session, where, after, limit + 1)
        names, statements = entity_names(session), claim_statements(session)
        also_at = queries.duplicate_urls(session, [a.id for a in rows[:limit]])
        items = [article_record(a, names, statements, also_at.get(a.id, [])) for a in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items, _position(last.dated_at, last.id) if last is not None else None)


def article(sessions: sessionmaker[Session], article_id: int) -> dict[str, Any] | None:
    """One stored article with its text, or None."""
    with sessions() as session:
        row = queries.stored_article(session, article_id)
        if row is None:
            return None
        names, statements = entity_names(session), claim_statements(session)
        also_at = queries.duplicate_urls(session, [row.id]).get(row.id, [])
        return article_record(row, names, statements, also_at, text=True)


def article_record(
    row: Article,
    names: dict[str, str],
    statements: dict[str, str],
    also_at: list[str],
    *,
    text: bool = False,
) -> dict[str, Any]:
    """The ``mediamon export`` record of an article (``text`` only when asked), plus its id,
    the date trends count it under and its outlet's host."""
    counts = Counter(m.entity_id for m in row.mentions)
    record: dict[str, Any] = {
        "id": row.id,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "title": row.title,
        "published": _iso(row.published),
        "dated_at": _iso(row.dated_at),
        "published_source": row.published_source.value if row.published_source else None,
        "source": row.site_name or (row.feed.title if row.feed else None),
        "outlet": row.source,
        "feed": row.feed.url if row.feed else None,
        "language": row.language,
        "relevance": row.relevance,
        "entities": [{"id": eid, "name": names.get(eid, eid), "count": n} for eid, n in counts.most_common()],
        "claims": [
            {
                "id": m.claim_id,
                "statement": statements.get(m.claim_id, ""),
                "score": m.score,
                "stance": m.stance,
                "evidence": m.evidence,
            }
            for m in sorted(row.claim_matches, key=lambda m: -m.score)
        ],
        "also_at": also_at,
    }
    if text:
        record["text"] = row.text
    return record


def matches(
    sessions: sessionmaker[Session], where: BrowseFilter, after: Position | None, limit: int
) -> Page[Position]:
    """Claim matches of stored articles, newest article first."""
    with sessions() as session:
        rows = queries.match_page(session, where, after, limit + 1)
        statements = claim_statements(session)
        items = [_match_record(m, a, statements) for m, a in rows[:limit]]
    if len(rows) > limit:
        last_match, last_article = rows[limit - 1]
        return Page(items, _position(last_article.dated_at, last_match.id))
    return Page(items, None)


def _match_record(match: ClaimMatch, row: Article, statements: dict[str, str]) -> dict[str, Any]:
    """A claim match as ``mediamon match`` prints one, with the article it was found in."""
    return {
        "id": match.claim_id,
        "statement": statements.get(match.claim_id, ""),
        "score": match.score,
        "method": match.method,
        "stance": match.stance,
        "evidence": {"text": match.evidence, "start": match.evidence_start, "end": match.evidence_end},
        "features": match.features,
        "article_id": row.id,
        "url": row.url,
        "title": row.title,
        "outlet": row.source,
        "dated_at": _iso(row.dated_at),
    }


def entities(sessions: sessionmaker[Session], after: str | None, limit: int) -> Page[str]:
    """Knowledge-base entities as stored (``mediamon kb show`` lists the same)."""
    with sessions() as session:
        rows = queries.entity_page(session, after, limit + 1)
        items = [{"id": e.id, "name": e.name, "type": e.type, "aliases": list(e.aliases)} for e in rows]
    return Page(items[:limit], rows[limit - 1].id if len(rows) > limit else None)


def claims(sessions: sessionmaker[Session], after: str | None, limit: int) -> Page[str]:
    """Knowledge-base claims as stored."""
    with sessions() as session:
        rows = queries.claim_page(session, after, limit + 1)
        items = [
            {"id": c.id, "statement": c.statement, "entity_ids": list(c.entity_ids), "source": c.source}
            for c in rows
        ]
    return Page(items[:limit], rows[limit - 1].id if len(rows) > limit else None)


def feeds(sessions: sessionmaker[Session], after: int | None, limit: int) -> Page[int]:
    """Feeds with their state and schedule, in the order they were added."""
    with sessions() as session:
        rows = queries.feed_page(session, after, limit + 1)
        items = [feed_record(f) for f in rows[:limit]]
    return Page(items, rows[limit - 1].id if len(rows) > limit else None)


def feed(sessions: sessionmaker[Session], url: str) -> dict[str, Any] | None:
    """The feed with this URL, or None."""
    with sessions() as session:
        found = queries.feeds_by_url(session, [url])
        return feed_record(found[0]) if found else None


def feed_record(feed: Feed) -> dict[str, Any]:
    """What ``mediamon feeds list`` shows of a feed."""
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title,
        "state": feed.state.value,
        "last_polled_at": _iso(feed.last_polled_at),
        "last_success_at": _iso(feed.last_success_at),
        "next_poll_at": _iso(feed.next_poll_at),
        "failure_score": feed.failure_score,
        "last_error": feed.last_error,
    }


def _position(at: datetime | None, row_id: int) -> Position:
    if at is None:  # the queries list dated rows only
        raise ValueError(f"row {row_id} has no date")
    return at, row_id


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
