"""A claim spreading: repeated by several outlets within a day, said once, with the lags.

For each claim, the earliest article that asserts or reports it (a denial is not a repeat) is
the first outlet; every other outlet that repeats it within 24 hours is a follower with its
lag. When first and followers reach the configured number of distinct outlets, the claim is
spreading. The key names the claim and its first article, so the same spread is reported once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from notify.records import Follower, Outlet
from notify.rules import StoredArticle

WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Spread:
    claim_id: str
    first_article_id: int
    first: Outlet
    followers: tuple[Follower, ...]

    @property
    def key(self) -> str:
        return f"{self.claim_id}@{self.first_article_id}"

    @property
    def outlets(self) -> int:
        return 1 + len(self.followers)


def find_spreads(
    articles: Iterable[StoredArticle], *, min_outlets: int, within: timedelta = WITHIN
) -> list[Spread]:
    """Claims repeated by at least ``min_outlets`` distinct outlets within ``within`` of the first."""
    repeats: dict[str, list[tuple[StoredArticle, Outlet]]] = defaultdict(list)
    for article in articles:
        for claim in article.claims:
            if claim.stance != "denies":
                repeats[claim.claim_id].append(
                    (article, Outlet(article.site, article.url, article.published))
                )
    found = []
    for claim_id, seen in sorted(repeats.items()):
        seen.sort(key=lambda pair: (pair[1].published, pair[0].article_id))
        first_article, first = seen[0]
        followers: dict[str, Follower] = {}
        for _, outlet in seen[1:]:
            lag = outlet.published - first.published
            if outlet.name != first.name and outlet.name not in followers and lag <= within:
                followers[outlet.name] = Follower(outlet, lag.total_seconds())
        if 1 + len(followers) >= min_outlets:
            found.append(Spread(claim_id, first_article.article_id, first, tuple(followers.values())))
    return found
