"""Who wants what: a subscription's filter applied to stored articles, as plain functions.

With no filter a subscription receives everything on the theme: every article whose relevance
reaches the threshold. Each filter narrows: entities (any of them mentioned), claims (any of
them matched), stances (a matched claim with one of them), a higher minimum relevance, muted
sources (by host, subdomains included) and muted keywords (in the title, case folded).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit


def site_of(site_name: str | None, url: str) -> str:
    """An outlet's name: the site's own, else the link's host without ``www.``."""
    return site_name or (urlsplit(url).hostname or "").lower().removeprefix("www.")


@dataclass(frozen=True)
class StoredClaim:
    """One claim match of a stored article, as the store returns it."""

    claim_id: str
    score: float
    stance: str | None
    evidence: str
    evidence_start: int
    evidence_end: int
    method: str = ""  # "semantic" or "lexical"
    features: Mapping[str, float] | None = None  # what decided the match (ClaimHit.features)


@dataclass(frozen=True)
class StoredArticle:
    """A processed article as delivery sees it (built by the store's delivery queries)."""

    article_id: int
    story_id: int
    url: str
    title: str
    site: str  # the outlet's name (site name, else host)
    published: datetime  # published date, else first seen (UTC)
    stored_at: datetime  # when it was processed (UTC): digests cover what was stored since
    relevance: float
    entity_ids: frozenset[str] = frozenset()
    claims: tuple[StoredClaim, ...] = ()
    mentions: tuple[tuple[str, int, int], ...] = ()  # (entity id, start, end) in the article text
    copies: tuple[tuple[str, str, datetime], ...] = ()  # (site, url, first seen) of duplicates

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


@dataclass(frozen=True)
class Filter:
    entity_ids: frozenset[str] = frozenset()
    claim_ids: frozenset[str] = frozenset()
    stances: frozenset[str] = frozenset()
    min_relevance: float = 0.3
    muted_sources: frozenset[str] = frozenset()
    muted_keywords: tuple[str, ...] = field(default=())

    @classmethod
    def of(
        cls,
        *,
        entity_ids: Iterable[str] = (),
        claim_ids: Iterable[str] = (),
        stances: Iterable[str] = (),
        min_relevance: float | None,
        default_relevance: float,
        muted_sources: Iterable[str] = (),
        muted_keywords: Iterable[str] = (),
    ) -> Filter:
        return cls(
            frozenset(entity_ids),
            frozenset(claim_ids),
            frozenset(stances),
            default_relevance if min_relevance is None else min_relevance,
            frozenset(s.lower().strip(".") for s in muted_sources),
            tuple(k.casefold() for k in muted_keywords if k.strip()),
        )


def wanted_claims(rule: Filter, article: StoredArticle) -> tuple[StoredClaim, ...]:
    """The article's claim matches this subscription asks for (all of them without a claim or
    stance filter)."""
    return tuple(
        claim
        for claim in article.claims
        if (not rule.claim_ids or claim.claim_id in rule.claim_ids)
        and (not rule.stances or (claim.stance or "") in rule.stances)
    )


def wants(rule: Filter, article: StoredArticle) -> bool:
    """Whether this subscription receives this article."""
    if article.relevance < rule.min_relevance or _muted(rule, article):
        return False
    if rule.entity_ids and not rule.entity_ids & article.entity_ids:
        return False
    return not (rule.claim_ids or rule.stances) or bool(wanted_claims(rule, article))


def _muted(rule: Filter, article: StoredArticle) -> bool:
    if rule.muted_sources:
        host = article.host
        if any(host == muted or host.endswith("." + muted) for muted in rule.muted_sources):
            return True
    if rule.muted_keywords:
        title = article.title.casefold()
        return any(keyword in title for keyword in rule.muted_keywords)
    return False
