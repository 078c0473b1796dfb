"""The read API (``/api/*`` and ``/health``): the store's articles, matches, knowledge base,
trends, top lists, claim histories, search and feeds, as JSON.

Every endpoint calls the service functions the CLI calls (``services.reports``,
``services.search``, ``services.browse``, ``services.feeds``) and answers with the field names
the CLI's ``--format json`` writes; the models in ``web.responses`` state them in the OpenAPI
schema (``/openapi.json``). Lists are paged by an opaque cursor (``next``; pass it back as
``cursor``) and ``limit`` (at most 200).

Nothing a client sends can make a 500: parameters are typed and bounded (enums, patterns,
ranges), and what is well-formed but unusable (an unknown time zone, an empty period, an
entity id the store does not know, a cursor of another listing) is a 422 saying why. An
entity or claim filter naming an unknown id is always a 422, never an empty answer, so a typo
does not read as "nothing happened".

Writes (adding and removing feeds) need ``Authorization: Bearer <MEDIAMON_API_TOKEN>``; with
no token configured they are refused with a 403, so a fresh install exposes no write.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at
# run time, and some name dependencies made inside ``api_router`` (closures over the store).
import ipaddress
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ingest.feeds import FeedSource
from reports.periods import zone
from schema.queries.search import MAX_LIMIT, SearchError, SearchQuery, parse_query
from services import browse, reports
from services import feeds as feed_list
from services.reports import TopQuery, TrendQuery
from services.search import search as search_pages
from services.spikes import spikes as find_spikes
from services.status import store_status
from web import charts, pagination, responses
from web.params import (
    By,
    Host,
    Id,
    Moment,
    Refused,
    Stance,
    Zone,
    hosts,
    known,
    period,
    spike_query,
    trend_query,
)

PAGE = 50
#: Filter values per parameter (entities, claims, outlets): more is no longer a filter.
MAX_VALUES = 50

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": responses.Problem, "description": "a parameter is invalid or cannot be answered"}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": responses.Problem, "description": "no such item"}
}

Since = Annotated[
    Moment | None,
    Query(
        description="start: a span back from now (30d, 48h, 2w), a date or an ISO time",
        examples=["30d", "2025-05-01"],
    ),
]
Until = Annotated[
    Moment | None,
    Query(description="end: a date (that whole day included) or ISO time", examples=["2025-05-10"]),
]
Entities = Annotated[
    list[Id] | None, Query(max_length=MAX_VALUES, description="entity id, repeatable", examples=[["ttp"]])
]
Claims = Annotated[
    list[Id] | None,
    Query(
        max_length=MAX_VALUES, description="claim id, repeatable", examples=[["isi-arms-militant-proxies"]]
    ),
]
Stances = Annotated[list[Stance] | None, Query(max_length=3, description="claim stance, repeatable")]
Sources = Annotated[
    list[Host] | None,
    Query(max_length=MAX_VALUES, description="outlet host, repeatable", examples=[["dawn.com"]]),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=pagination.MAX_CURSOR, description="`next` of the last page")]
Tz = Annotated[Zone, Query(description="time zone of the buckets (IANA name)", examples=["Asia/Karachi"])]


def api_router(
    sessions: sessionmaker[Session],
    *,
    clock: Callable[[], datetime],
    on_theme_threshold: float,
    api_token: str | None,
    allowed_private_hosts: frozenset[str] = frozenset(),
) -> APIRouter:
    """The ``/api`` routes and ``/health`` over one store."""
    router = APIRouter()
    bearer = HTTPBearer(auto_error=False, description="MEDIAMON_API_TOKEN (writes only)")

    def may_write(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        if api_token is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "writes are disabled: set MEDIAMON_API_TOKEN")
        given = credentials.credentials.encode() if credentials else b""
        if not secrets.compare_digest(given, api_token.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    def browse_filter(
        since: Since = None,
        until: Until = None,
        entity: Entities = None,
        claim: Claims = None,
        stance: Stances = None,
        source: Sources = None,
    ) -> browse.BrowseFilter:
        try:
            start, end = (
                period(since, until, now=clock(), default_since=None) if since or until else (None, None)
            )
            known(sessions, entity or (), claim or ())
        except Refused as exc:
            raise _unprocessable(exc) from exc
        return browse.BrowseFilter(
            since=start,
            until=end if until else None,
            entity_ids=tuple(entity or ()),
            claim_ids=tuple(claim or ()),
            stances=tuple(stance or ()),
            sources=hosts(source or ()),
        )

    Filter = Annotated[browse.BrowseFilter, Depends(browse_filter)]

    def trends_asked(
        by: Annotated[By, Query(description="bucket size")] = "day",
        since: Annotated[
            Moment,
            Query(description="start: a span back from now (30d, 48h, 2w) or a date", examples=["90d"]),
        ] = "30d",
        until: Until = None,
        tz: Tz = "UTC",
        entity: Entities = None,
        claim: Claims = None,
        stance: Stances = None,
        source: Sources = None,
        normalize: Annotated[
            bool, Query(description="also each count's share of all stored articles")
        ] = False,
    ) -> TrendQuery:
        try:
            return trend_query(
                sessions,
                now=clock(),
                by=by,
                since=since,
                until=until,
                tz=tz,
                entity=entity or (),
                claim=claim or (),
                stance=stance or (),
                source=source or (),
                normalize=normalize,
            )
        except Refused as exc:
            raise _unprocessable(exc) from exc

    Trend = Annotated[TrendQuery, Depends(trends_asked)]

    @router.get(
        "/health",
        response_model=responses.Health,
        responses={503: {"model": responses.Health, "description": "the database does not answer"}},
        tags=["status"],
    )
    def health() -> Any:
        """Whether the database answers, with feeds by health and articles by state."""
        try:
            counts = store_status(sessions, clock())
        except SQLAlchemyError as exc:
            body = {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}", "counts": {}}
            return JSONResponse(body, status_code=503)
        return {"status": "ok", "database": "reachable", "counts": counts}

    @router.get("/api/articles", response_model=responses.ArticlePage, responses=ERRORS, tags=["articles"])
    def articles(where: Filter, limit: Limit = PAGE, cursor: Cursor = None) -> dict[str, Any]:
        """Stored articles, newest first by the date trends count them under (text left out)."""
        page = browse.articles(sessions, where, _cursor(pagination.position, cursor), limit)
        return _page(page)

    @router.get(
        "/api/articles/{article_id}",
        response_model=responses.Article,
        responses={**ERRORS, **NOT_FOUND},
        tags=["articles"],
    )
    def article(article_id: Annotated[int, Path(ge=1, lt=2**31)]) -> dict[str, Any]:
        """One stored article with its text, entities and claim matches."""
        found = browse.article(sessions, article_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no stored article {article_id}")
        return found

    @router.get("/api/matches", response_model=responses.MatchPage, responses=ERRORS, tags=["articles"])
    def matches(where: Filter, limit: Limit = PAGE, cursor: Cursor = None) -> dict[str, Any]:
        """Claim matches of stored articles, newest article first."""
        page = browse.matches(sessions, where, _cursor(pagination.position, cursor), limit)
        return _page(page)

    @router.get(
        "/api/entities", response_model=responses.EntityPage, responses=ERRORS, tags=["knowledge base"]
    )
    def entities(limit: Limit = MAX_LIMIT, cursor: Cursor = None) -> dict[str, Any]:
        """The knowledge base's entities, by id."""
        return _page(browse.entities(sessions, _cursor(pagination.key, cursor), limit))

    @router.get("/api/claims", response_model=responses.ClaimPage, responses=ERRORS, tags=["knowledge base"])
    def claims(limit: Limit = MAX_LIMIT, cursor: Cursor = None) -> dict[str, Any]:
        """The knowledge base's claims, by id."""
        return _page(browse.claims(sessions, _cursor(pagination.key, cursor), limit))

    @router.get(
        "/api/claims/{claim_id}/history",
        response_model=responses.ClaimHistory,
        responses={**ERRORS, **NOT_FOUND},
        tags=["reports"],
    )
    def claim_history(claim_id: Annotated[Id, Path()]) -> dict[str, object]:
        """First seen, outlets with their lag, stance flips, resurfacing, and whether the claim
        is spreading now (``mediamon report claim``)."""
        try:
            return reports.claim_history(sessions, claim_id, now=clock()).to_json()
        except reports.UnknownClaim:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no claim {claim_id!r} in the store") from None

    @router.get(
        "/api/trends",
        response_model=responses.Trends,
        response_model_exclude_none=True,
        responses=ERRORS,
        tags=["reports"],
    )
    def trends(query: Trend) -> dict[str, Any]:
        """Counts per bucket (``mediamon report trends``): articles, on-theme articles, entity
        mentions and claim matches by stance, with shares of all articles when normalized."""
        timeline = reports.trends(sessions, query, on_theme_threshold=on_theme_threshold)
        aligned = query.aligned()
        return {
            "by": timeline.by,
            "tz": timeline.tz,
            "since": aligned.since.astimezone(zone(query.tz)).isoformat(),
            "until": aligned.until.astimezone(zone(query.tz)).isoformat(),
            "normalized": timeline.normalized,
            "records": timeline.as_records(),
        }

    @router.get(
        "/charts/trends.png",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}, "description": "the chart"}, **ERRORS},
        tags=["reports"],
    )
    def trends_png(query: Trend) -> Response:
        """The trends as a chart (the picture of ``mediamon report trends --format png``)."""
        timeline = reports.trends(sessions, query, on_theme_threshold=on_theme_threshold)
        return Response(charts.png(timeline), media_type="image/png")

    @router.get("/api/top", response_model=responses.Top, responses=ERRORS, tags=["reports"])
    def top(
        since: Annotated[
            Moment, Query(description="start: a span back from now or a date", examples=["90d"])
        ] = "30d",
        until: Until = None,
        source: Sources = None,
        entity: Annotated[
            Id | None, Query(description="also list what co-occurs with this entity", examples=["ttp"])
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, object]:
        """Top outlets, entities and claims over whole UTC days (``mediamon report top``)."""
        try:
            start, end = period(since, until, now=clock())
            known(sessions, [entity] if entity else ())
        except Refused as exc:
            raise _unprocessable(exc) from exc
        assert start is not None  # a start was given
        query = TopQuery(since=start, until=end, sources=hosts(source or ()), entity_id=entity, limit=limit)
        return reports.top(sessions, query).to_json()

    @router.get(
        "/api/spikes",
        response_model=responses.Spikes,
        response_model_exclude_unset=True,
        responses=ERRORS,
        tags=["reports"],
    )
    def spikes(
        since: Since = None,
        until: Until = None,
        by: Annotated[
            Literal["day", "hour"], Query(description="bucket size (hours: the last 48 at most)")
        ] = "day",
        tz: Tz = "UTC",
        sensitivity: Annotated[
            str,
            Query(
                pattern=r"^(low|normal|high|0?\.[0-9]{1,6}|1|1\.0+)$",
                description="false alarms allowed per report: low 0.01, normal 0.05, high 0.25, or a number",
                examples=["high", "0.1"],
            ),
        ] = "normal",
        min_count: Annotated[
            int, Query(ge=1, le=10_000, description="fewest articles that can be a spike")
        ] = 3,
        kind: Annotated[list[Literal["entity", "claim"]] | None, Query(max_length=2)] = None,
        entity: Entities = None,
        claim: Claims = None,
        explain: Annotated[int, Query(ge=0, le=50, description="the strongest spikes explained")] = 10,
    ) -> dict[str, object]:
        """Entities and claims that drew far more articles than their recent past, strongest
        first, each explained by its outlets, co-named entities and stories (``mediamon report
        spikes``)."""
        try:
            query = spike_query(
                sessions,
                now=clock(),
                since=since,
                until=until,
                by=by,
                tz=tz,
                sensitivity=sensitivity,
                min_count=min_count,
                kinds=kind or ("entity", "claim"),
                entity=entity or (),
                claim=claim or (),
                explain=explain,
            )
        except Refused as exc:
            raise _unprocessable(exc) from exc
        return find_spikes(sessions, query).to_json()

    @router.get("/api/search", response_model=responses.SearchResults, responses=ERRORS, tags=["articles"])
    def search(
        q: Annotated[
            str,
            Query(
                min_length=1, max_length=500, description='words, "a phrase", OR, -word', examples=["drone"]
            ),
        ],
        since: Since = None,
        until: Until = None,
        entity: Entities = None,
        claim: Claims = None,
        source: Sources = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """Stored articles matching the words, best first, each with a snippet whose hits are
        in ``<mark>`` (``mediamon search``)."""
        try:
            if not parse_query(q).searchable:
                raise Refused(f"nothing to search for in {q[:60]!r}: give a word that is not excluded")
            start, end = (
                period(since, until, now=clock(), default_since=None) if since or until else (None, None)
            )
            known(sessions, entity or (), claim or ())
            query = SearchQuery(
                text=q,
                since=start,
                until=end if until else None,
                sources=hosts(source or ()),
                entity_ids=tuple(entity or ()),
                claim_ids=tuple(claim or ()),
                limit=limit,
                after=cursor,
            )
        except (Refused, SearchError) as exc:
            raise _unprocessable(exc) from exc
        return search_pages(sessions, query).to_json()

    @router.get("/api/feeds", response_model=responses.FeedPage, responses=ERRORS, tags=["feeds"])
    def feeds(limit: Limit = PAGE, cursor: Cursor = None) -> dict[str, Any]:
        """The feeds polled, in the order they were added, with their health."""
        return _page(browse.feeds(sessions, _cursor(pagination.number, cursor), limit))

    @router.post(
        "/api/feeds",
        response_model=responses.Feed,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": responses.Feed, "description": "the feed was already known"},
            401: {"model": responses.Problem, "description": "no or a wrong bearer token"},
            403: {"model": responses.Problem, "description": "writes are disabled"},
            **ERRORS,
        },
        dependencies=[Depends(may_write)],
        tags=["feeds"],
    )
    def add_feed(feed: responses.NewFeed, response: Response) -> dict[str, Any]:
        """Add a feed by URL (``mediamon feeds add``): 201 when new, 200 when already known."""
        url = feed.url.strip()
        problem = feed_url_problem(url, allowed_private_hosts)
        if problem:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
        if not feed_list.add_feeds(sessions, [FeedSource(url, feed.title)]):
            response.status_code = status.HTTP_200_OK
        added = browse.feed(sessions, url)
        assert added is not None  # just added, or known
        return added

    @router.delete(
        "/api/feeds/{feed_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        responses={
            401: {"model": responses.Problem, "description": "no or a wrong bearer token"},
            403: {"model": responses.Problem, "description": "writes are disabled"},
            **ERRORS,
            **NOT_FOUND,
        },
        dependencies=[Depends(may_write)],
        tags=["feeds"],
    )
    def remove_feed(feed_id: Annotated[int, Path(ge=1, lt=2**31)]) -> Response:
        """Remove a feed (``mediamon feeds remove``); its articles are kept."""
        if not feed_list.remove_feeds(sessions, [str(feed_id)]):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no feed {feed_id}")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def feed_url_problem(url: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why ``url`` cannot be a feed, or None. The fetcher refuses private addresses again at
    connect time, on the addresses it resolves (``ingest.ssrf``); this refuses early what is
    visibly not a public http(s) feed, so it never enters the list."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"not an http(s) URL: {url[:80]}"
    host = (parts.hostname or "").lower()
    if not host:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL must not carry credentials"
    if port == 0:
        return "the URL's port is 0"
    if host in allowed_hosts:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is a private host name; add it to MEDIAMON_ALLOWED_PRIVATE_HOSTS to allow it"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: resolved and checked when fetched
    if not address.is_global or address.is_multicast:
        return f"{host} is not a public address; add it to MEDIAMON_ALLOWED_PRIVATE_HOSTS to allow it"
    return None


def _cursor(read: Callable[[str | None], Any], cursor: str | None) -> Any:
    try:
        return read(cursor)
    except pagination.BadCursor as exc:
        raise _unprocessable(exc) from exc


def _page(page: browse.Page[Any]) -> dict[str, Any]:
    return {
        "items": page.items,
        "next": None if page.next_after is None else pagination.encode(page.next_after),
    }


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
