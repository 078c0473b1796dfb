"""Full-text search: the one entry point the CLI and the web API call.

One read-only session per page. The page knows whether another follows: the query is asked for
one hit more than the page shows, so the last page never hands out a cursor to an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from schema.queries.search import SearchHit, SearchQuery, search_articles


@dataclass(frozen=True)
class SearchPage:
    """A page of hits, best first, and the cursor of the next page (None on the last)."""

    hits: tuple[SearchHit, ...]
    next: str | None

    def to_json(self) -> dict[str, Any]:
        """The page as ``mediamon search --format json`` and ``/api/search`` write it."""
        return {"hits": [hit.to_json() for hit in self.hits], "next": self.next}


def search(sessions: sessionmaker[Session], query: SearchQuery) -> SearchPage:
    """The page of stored articles matching ``query`` that follows ``query.after``."""
    with sessions() as session:
        found = search_articles(session, query, look_ahead=1)
    hits = tuple(found[: query.limit])
    return SearchPage(hits, hits[-1].cursor if len(found) > query.limit else None)
