"""The read API's response documents, as pydantic models: the OpenAPI schema states each field.

Field names are those the CLI writes with ``--format json`` (``Timeline.as_records``,
``TopLists.to_json``, ``ClaimHistory.to_json``, ``SearchPage.to_json``, ``mediamon export``);
the service layer builds the dicts and these models only describe and check them. Times are
ISO 8601 strings with their UTC offset, as the CLI prints them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Time = str  # ISO 8601 with offset, e.g. 2025-05-02T07:30:00+00:00


class Problem(BaseModel):
    """Why a request was refused: a sentence, or FastAPI's list of invalid parameters."""

    detail: str | list[dict[str, Any]]


# --- articles and matches ----------------------------------------------------------------------


class ArticleEntity(BaseModel):
    id: str
    name: str
    count: int = Field(description="mentions in the article")


class ArticleClaim(BaseModel):
    id: str
    statement: str
    score: float
    stance: str | None
    evidence: str
    features: dict[str, float] | None = Field(default=None, description="what decided the match (see Match)")


class ArticleSummary(BaseModel):
    """A stored article as ``mediamon export`` writes it, without its text, plus its id, the
    date trends count it under and its outlet's host (what ``source`` filters take)."""

    id: int
    url: str
    canonical_url: str
    title: str | None
    published: Time | None
    published_source: str | None = Field(
        description="where the date came from: page, feed, url or first_seen"
    )
    dated_at: Time | None = Field(description="published, else first seen: the date trends count by")
    source: str | None = Field(description="the outlet's name (site name or feed title)")
    outlet: str | None = Field(description="the outlet's host, e.g. dawn.com")
    feed: str | None
    language: str | None
    relevance: float | None
    entities: list[ArticleEntity]
    claims: list[ArticleClaim]
    also_at: list[str] = Field(description="URLs of syndicated copies")


class Article(ArticleSummary):
    text: str | None


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next: str | None = Field(description="cursor of the next page; null on the last")


class Evidence(BaseModel):
    text: str
    start: int
    end: int


class Match(BaseModel):
    """A claim match as ``mediamon match`` prints one, with the article it was found in."""

    id: str = Field(description="the claim's id")
    statement: str
    score: float
    method: str
    stance: str | None
    evidence: Evidence
    features: dict[str, float] | None = Field(
        default=None,
        description="what decided the match: entity_share and term_share (the claim's subjects and "
        "key terms in the evidence); for semantic matches also cosine, margin and denial",
    )
    article_id: int
    url: str
    title: str | None
    outlet: str | None
    dated_at: Time | None


class MatchPage(BaseModel):
    items: list[Match]
    next: str | None


# --- the knowledge base and feeds --------------------------------------------------------------


class Entity(BaseModel):
    id: str
    name: str
    type: str
    aliases: list[str]


class EntityPage(BaseModel):
    items: list[Entity]
    next: str | None


class Claim(BaseModel):
    id: str
    statement: str
    entity_ids: list[str]
    source: str | None = Field(description="the seed document the claim was distilled from")


class ClaimPage(BaseModel):
    items: list[Claim]
    next: str | None


class Feed(BaseModel):
    id: int
    url: str
    title: str | None
    state: Literal["active", "dead"]
    last_polled_at: Time | None
    last_success_at: Time | None
    next_poll_at: Time | None
    failure_score: float
    last_error: str | None


class FeedPage(BaseModel):
    items: list[Feed]
    next: str | None


class NewFeed(BaseModel):
    url: str = Field(min_length=8, max_length=2048, examples=["https://www.dawn.com/feeds/home"])
    title: str | None = Field(default=None, max_length=500)


# --- reports -----------------------------------------------------------------------------------


class TrendRecord(BaseModel):
    """One (bucket, series) count, as ``mediamon report trends --format json`` writes it."""

    bucket: Time
    series: str = Field(description="articles, on_theme, entity:ID or entity mentions, claims:STANCE")
    count: int
    total: int = Field(description="all articles stored in the bucket")
    ratio: float | None = Field(default=None, description="count / total; only with normalize")


class Trends(BaseModel):
    by: Literal["hour", "day", "week", "month"]
    tz: str
    since: Time = Field(description="start of the first bucket")
    until: Time = Field(description="end of the last bucket")
    normalized: bool
    records: list[TrendRecord]


class TopItem(BaseModel):
    key: str
    label: str
    count: int
    share: float = Field(description="of the period's stored articles")
    detail: dict[str, int] = Field(description="stances for claims")


class Top(BaseModel):
    since: Time
    until: Time
    total: int
    sources: list[TopItem]
    entities: list[TopItem]
    claims: list[TopItem]
    with_entity: str | None
    cooccurring: list[TopItem]


class FirstSeen(BaseModel):
    source: str
    at: Time
    title: str
    url: str
    stance: str


class OutletRecord(BaseModel):
    source: str
    first_at: Time = Field(description="its first article on the claim, exact")
    lag_hours: float = Field(description="behind the first outlet")
    articles: int
    stances: dict[str, int]
    flips: list[str] = Field(
        description="changes between asserting and denying, by UTC day: 'asserts→denies on "
        "2025-05-02', 'asserts and denies on 2025-05-03' for a day with both"
    )


class Resurfacing(BaseModel):
    day: str = Field(description="the UTC day (YYYY-MM-DD) the claim came back")
    quiet_days: int = Field(description="days since the claim's previous day with an article")


class ClaimEvent(BaseModel):
    article_id: int
    at: Time
    source: str
    stance: str
    title: str
    url: str
    score: float


class ClaimHistory(BaseModel):
    """A claim's history: counts, flips, resurfacing and spreading by UTC day; the first
    article, each outlet's first time and the latest articles exact."""

    claim_id: str
    statement: str
    articles: int = Field(description="every stored article matching the claim")
    first_seen: FirstSeen | None
    outlets: list[OutletRecord]
    resurfaced: list[Resurfacing]
    recent_week: int = Field(description="articles in the last 7 UTC days, today included")
    baseline_weekly: float = Field(description="weekly average over the 28 days before those")
    spreading: bool
    latest_events: list[ClaimEvent] = Field(description="the 100 newest articles, newest first")


class SearchHit(BaseModel):
    article_id: int
    url: str
    title: str | None
    source: str | None = Field(description="the outlet's host")
    dated_at: Time | None
    rank: float = Field(description="higher is better; 1 and above when the title matches")
    snippet: str = Field(description="HTML-escaped text, the hits inside <mark>…</mark>")


class SearchResults(BaseModel):
    """``mediamon search --format json``: hits, best first, and the next page's cursor."""

    hits: list[SearchHit]
    next: str | None
    ranked_newest: int | None = Field(
        default=None,
        description="set when only this many newest matches were ranked and older ones match too "
        "(narrow the period with since/until to reach them)",
    )


class Counted(BaseModel):
    key: str
    label: str
    count: int
    url: str | None = Field(default=None, description="stories only: the first article's address")


class SpikeExplanation(BaseModel):
    sources: list[Counted] = Field(description="the outlets that carried it most in the bucket")
    entities: list[Counted] = Field(description="entities named with it in the bucket's articles")
    stories: list[Counted] = Field(description="its stories in the bucket, most articles first")


class Spike(BaseModel):
    """One bucket of one entity or claim far above its rolling baseline."""

    kind: Literal["entity", "claim"]
    key: str
    label: str = Field(description="the entity's name or the claim's statement")
    bucket: Time
    granularity: Literal["day", "hour"]
    observed: int
    expected: float = Field(description="the baseline's mean articles per bucket")
    ratio: float
    p_value: float
    model: str = Field(description="poisson or negative binomial")
    explanation: SpikeExplanation | None = Field(description="for the strongest spikes only")


class Spikes(BaseModel):
    """``mediamon report spikes --format json``."""

    since: Time = Field(description="start of the first tested bucket")
    until: Time = Field(description="end of the last tested bucket")
    granularity: Literal["day", "hour"]
    tz: str
    series_tested: int
    buckets_tested: int
    false_alarm_budget: float = Field(description="false alarms allowed per report on steady noise")
    p_threshold: float = Field(description="the per-test p-value a spike must be below")
    spikes: list[Spike] = Field(description="strongest first")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str
    counts: dict[str, int] = Field(description="feeds by health, articles by state")
