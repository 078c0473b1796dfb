"""Full-text search: the one entry point the CLI and the web API call.

One read-only session per page. The page knows whether another follows: the query is asked for
one hit more than the page shows, so the last page never hands out a cursor to an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from schema.queries.search import RANK_POOL, SearchHit, SearchQuery, search_articles


@dataclass(frozen=True)
class SearchPage:
    """A page of hits, best first, and the cursor of the next page (None on the last).
    ``ranked_newest`` is set when only that many newest matches were ranked and older ones
    exist (narrowing the period reaches them)."""

    hits: tuple[SearchHit, ...]
    next: str | None
    ranked_newest: int | None = None

    @property
    def note(self) -> str | None:
        """What a reader should know about the page's reach, in words."""
        if self.ranked_newest is None:
            return None
        return (
            f"Ranked among the newest {self.ranked_newest:,} matching articles; "
            "older ones match too: narrow the period (--since/--until) to reach them."
        )

    def to_json(self) -> dict[str, Any]:
        """The page as ``mediamon search --format json`` and ``/api/search`` write it."""
        return {
            "hits": [hit.to_json() for hit in self.hits],
            "next": self.next,
            "ranked_newest": self.ranked_newest,
        }


def search(sessions: sessionmaker[Session], query: SearchQuery) -> SearchPage:
    """The page of stored articles matching ``query`` that follows ``query.after``."""
    with sessions() as session:
        found = search_articles(session, query, look_ahead=1)
    hits = tuple(found.hits[: query.limit])
    return SearchPage(
        hits,
        hits[-1].cursor if len(found.hits) > query.limit else None,
        RANK_POOL if found.older_unranked else None,
    )
