"""The dashboard: server-rendered pages for analysts, on the same service calls as the API.

Pages are Jinja2 templates (``web/templates/dashboard/``) with one vendored stylesheet
(``web/static/dashboard.css``); charts are the reports' matplotlib figures inlined as SVG. No
page loads a script, a font or anything else from elsewhere, and every control is a plain
link or GET form, so the pages work with JavaScript off and need no build step.

    /                  period picker, timeline, spikes explained, top outlets, entities, claims
    /claims            every claim of the knowledge base
    /claims/{id}       a claim's history: first seen, outlets and lag, flips, resurfacing
    /search?q=         full-text search with highlighted snippets
    /docs              the read API's endpoints, from its own OpenAPI schema
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from reports.trends import Timeline
from schema.queries.search import SearchError, SearchQuery, parse_query
from services import browse, reports
from services.reports import TopQuery
from services.search import search as search_pages
from services.spikes import spikes as find_spikes
from web import charts
from web.params import Refused, period, spike_query, trend_query

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
#: The period picker's choices; anything else falls back to the default.
PERIODS = ("7d", "30d", "90d")
DEFAULT_PERIOD = "30d"
CLAIM_SERIES = ("claims:asserts", "claims:reports", "claims:denies")
RESULTS = 20
#: Spikes shown (and explained) on the overview, strongest first.
SPIKES = 8


def dashboard_router(
    sessions: sessionmaker[Session], *, clock: Callable[[], datetime], on_theme_threshold: float
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def chosen(value: str | None) -> str:
        return value if value in PERIODS else DEFAULT_PERIOD

    @router.get("/", response_class=HTMLResponse)
    def overview(
        request: Request,
        period_: Annotated[str | None, Query(alias="period", max_length=10)] = None,
        normalize: bool = False,
        entity: Annotated[str | None, Query(max_length=100)] = None,
    ) -> HTMLResponse:
        span = chosen(period_)
        now = clock()
        try:
            query = trend_query(
                sessions, now=now, since=span, entity=[entity] if entity else (), normalize=normalize
            )
        except Refused as exc:
            return _refused(request, exc)
        timeline = reports.trends(sessions, query, on_theme_threshold=on_theme_threshold)
        title = f"Stored articles by day, last {span}" + (f", with {entity}" if entity else "")
        top = reports.top(
            sessions, TopQuery(since=query.since, until=query.until, entity_id=entity, limit=10)
        )
        found = find_spikes(sessions, spike_query(sessions, now=now, since=span, explain=SPIKES))
        return TEMPLATES.TemplateResponse(
            request,
            "dashboard/overview.html",
            {
                "periods": PERIODS,
                "period": span,
                "normalize": normalize,
                "entity": entity,
                "chart": charts.inline_svg(timeline, title=title),
                "summary": _summary(timeline),
                "top": top,
                "spikes": found.spikes[:SPIKES],
                "spikes_more": max(0, len(found.spikes) - SPIKES),
                "spike_report": found,
            },
        )

    @router.get("/claims", response_class=HTMLResponse)
    def claims(request: Request) -> HTMLResponse:
        page = browse.claims(sessions, None, 500)
        return TEMPLATES.TemplateResponse(request, "dashboard/claims.html", {"claims": page.items})

    @router.get("/claims/{claim_id}", response_class=HTMLResponse)
    def claim(
        request: Request,
        claim_id: Annotated[str, FastPath(max_length=100)],
        period_: Annotated[str | None, Query(alias="period", max_length=10)] = None,
    ) -> HTMLResponse:
        span = chosen(period_ or "90d")
        now = clock()
        try:
            history = reports.claim_history(sessions, claim_id, now=now)
        except reports.UnknownClaim:
            return _page(request, "dashboard/error.html", {"message": f"No claim {claim_id!r}."}, 404)
        try:
            query = trend_query(sessions, now=now, since=span, claim=[claim_id])
        except Refused as exc:
            return _refused(request, exc)
        timeline = reports.trends(sessions, query, on_theme_threshold=on_theme_threshold)
        chart = charts.inline_svg(timeline, CLAIM_SERIES, f"Articles matching {claim_id} by day, last {span}")
        return TEMPLATES.TemplateResponse(
            request,
            "dashboard/claim.html",
            {
                "history": history,
                "chart": chart,
                "periods": PERIODS,
                "period": span,
                "flips": [(o.source, flip) for o in history.outlets for flip in o.flips],
            },
        )

    @router.get("/search", response_class=HTMLResponse)
    def search(
        request: Request,
        q: Annotated[str, Query(max_length=500)] = "",
        period_: Annotated[str | None, Query(alias="period", max_length=10)] = None,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> HTMLResponse:
        context: dict[str, Any] = {"q": q, "hits": None, "next": None, "periods": PERIODS, "period": period_}
        if q.strip():
            if not parse_query(q).searchable:
                context["message"] = "Give at least one word that is not excluded."
                return _page(request, "dashboard/search.html", context, 422)
            try:
                start = period(period_, None, now=clock())[0] if period_ in PERIODS else None
                found = search_pages(sessions, SearchQuery(text=q, since=start, limit=RESULTS, after=cursor))
            except (Refused, SearchError) as exc:
                context["message"] = str(exc)
                return _page(request, "dashboard/search.html", context, 422)
            context |= {"hits": found.hits, "next": found.next, "note": found.note}
        return TEMPLATES.TemplateResponse(request, "dashboard/search.html", context)

    @router.get("/docs", response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        """The API's endpoints, read from its OpenAPI schema (a self-hosted page: Swagger UI
        would load its scripts from a CDN)."""
        schema = request.app.openapi()
        operations = [
            {
                "method": method.upper(),
                "path": path,
                "summary": (op.get("description") or op.get("summary") or "").split("\n\n")[0],
                "params": [
                    (p["name"], p.get("in", ""), p.get("required", False), p.get("description", ""))
                    for p in op.get("parameters", [])
                ],
                "auth": bool(op.get("security")),
            }
            for path, methods in schema["paths"].items()
            for method, op in methods.items()
        ]
        return TEMPLATES.TemplateResponse(
            request, "dashboard/docs.html", {"operations": operations, "version": schema["info"]["version"]}
        )

    return router


def _summary(timeline: Timeline) -> dict[str, int]:
    totals = {s.name: s.total for s in timeline.series}
    return {
        "articles": totals.get("articles", 0),
        "on_theme": totals.get("on_theme", 0),
        "claims": sum(n for name, n in totals.items() if name.startswith("claims:")),
        "denials": totals.get("claims:denies", 0),
    }


def _refused(request: Request, exc: Exception) -> HTMLResponse:
    return _page(request, "dashboard/error.html", {"message": str(exc)}, 422)


def _page(request: Request, template: str, context: dict[str, Any], status_code: int) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
