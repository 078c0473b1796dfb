"""A store of real Dawn and APP articles on their real dates, for the read API and dashboard tests.

Three articles a day (two from Dawn, one from APP; the corpus has no APP article from 1 to
4 May) from 21 April to 10 May 2025, each stored
through the write path with matches chosen here (:func:`plan`), so every count the tests assert
is computed from the articles themselves. On 8 May, as Pakistan reported shooting down Indian
drones, six more articles with "drone" in their title mention India, which no article named
before: a burst the spike tests must find, and the search tests' words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from matching.kb import KnowledgeBase
from schema import writes
from tests.support.news import NewsArticle, news
from tests.support.stored import shipped_kb, store_matched

CLAIM = "isi-arms-militant-proxies"
OTHER_CLAIM = "fatf-kept-pakistan-grey-list"
BURST_ENTITY = "india"
FIRST_DAY, LAST_DAY = date(2025, 4, 21), date(2025, 5, 10)
BURST_DAY = date(2025, 5, 8)
BURST_WORD = "drone"
BURST = 6
#: "Now" for the tests: the day after the last stored one, so "30d" covers every article.
NOW = datetime(2025, 5, 11, 6, tzinfo=UTC)
THRESHOLD = 0.3


@dataclass(frozen=True)
class Planned:
    """One stored article and what it was stored with."""

    article: NewsArticle
    entities: tuple[str, ...]
    claims: tuple[tuple[str, str], ...]
    relevance: float
    id: int = 0

    @property
    def day(self) -> date:
        return self.article.published.astimezone(UTC).date()

    @property
    def host(self) -> str:
        return self.article.url.split("/")[2].removeprefix("www.")


def plan(i: int) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], float]:
    """What the ``i``-th regular article mentions and matches, and how relevant it is."""
    entities = ("ttp",) * (i % 2 == 0) + ("isi",) * (i % 3 == 0)
    claims = ((CLAIM, "asserts" if i % 4 else "denies"),) * (i % 2 == 0) + ((OTHER_CLAIM, "reports"),) * (
        i % 5 == 0
    )
    return entities, claims, (i % 10) / 10


@cache
def chosen() -> tuple[Planned, ...]:
    """The regular articles (three a day) and the burst, each with its plan, oldest first."""
    by_day: dict[date, list[NewsArticle]] = {}
    seen: set[str] = set()
    for article in news():
        day = article.published.astimezone(UTC).date()
        if FIRST_DAY <= day <= LAST_DAY and article.url not in seen:
            seen.add(article.url)
            by_day.setdefault(day, []).append(article)
    regular: list[NewsArticle] = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        that_day = by_day[day]
        dawn = [a for a in that_day if "dawn.com" in a.url][:2]
        app = [a for a in that_day if "app.com.pk" in a.url][:1]  # none from 1 to 4 May: a real gap
        assert len(dawn) == 2, f"the corpus has Dawn articles on {day}"
        regular += dawn + app
        day += timedelta(days=1)
    planned = [Planned(a, *plan(i)) for i, a in enumerate(regular)]
    burst = [a for a in by_day[BURST_DAY] if a not in regular and BURST_WORD in a.title.lower()][:BURST]
    assert len(burst) == BURST, "the corpus has enough articles on drones on the burst day"
    planned += [Planned(a, (BURST_ENTITY, "pakistan-army"), (), 0.9) for a in burst]
    return tuple(sorted(planned, key=lambda p: (p.article.published, p.article.url)))


@cache
def knowledge_base() -> KnowledgeBase:
    """The shipped knowledge base, read once per test process (parsing it takes a second)."""
    return shipped_kb()


def fill_kb(sessions: sessionmaker[Session]) -> None:
    """Only the shipped entities and claims (what filters may name), no article."""
    with sessions.begin() as session:
        writes.sync_kb(session, knowledge_base())


def fill(sessions: sessionmaker[Session]) -> list[Planned]:
    """Store :func:`chosen` through the write path; the plans with their article ids."""
    stored: list[Planned] = []
    with sessions.begin() as session:
        writes.sync_kb(session, knowledge_base())
        for p in chosen():
            row = store_matched(
                session, p.article, entities=p.entities, claims=p.claims, relevance=p.relevance
            )
            stored.append(Planned(p.article, p.entities, p.claims, p.relevance, row.id))
    return stored
