"""The web app: the read API (``web.api``), the dashboard (``web.dashboard``) and one-click
unsubscribe, over one store.

``create_app(sessions, secret_key)`` is the factory (tests build their own); ``mediamon serve``
runs it under uvicorn with the configured store. The OpenAPI schema is served at
``/openapi.json`` and a self-hosted endpoint list at ``/docs`` (FastAPI's Swagger UI and ReDoc
load their scripts from a CDN, so they are off). CORS is off unless origins are configured.

Unsubscribe follows RFC 8058: a ``POST`` to the link a message carries, with the body
``List-Unsubscribe=One-Click``, unsubscribes at once: no login, no redirect. A ``GET`` of the
same link shows a page with a button and changes nothing, because mail scanners and link
previewers follow links. The token in the link is opaque and signed (``notify.tokens``); a
tampered or unknown one gets a 404 that says only that the link is not valid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from notify.tokens import read_token
from schema.models import Subscription
from services.limits import utc_now
from services.subscriptions import unsubscribe
from web.api import api_router
from web.dashboard import dashboard_router

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC = Path(__file__).parent / "static"
ONE_CLICK = ("List-Unsubscribe", "One-Click")
#: Relevance at or above which an article is on the theme (Settings.relevance_threshold's default).
ON_THEME = 0.3


def create_app(
    sessions: sessionmaker[Session],
    secret_key: str | None,
    clock: Callable[[], datetime] = utc_now,
    *,
    api_token: str | None = None,
    cors_origins: Sequence[str] = (),
    on_theme_threshold: float = ON_THEME,
    allowed_private_hosts: frozenset[str] = frozenset(),
) -> FastAPI:
    """The app over ``sessions``. Without ``secret_key`` no unsubscribe link is valid (none
    can have been signed); without ``api_token`` the API's writes are refused."""
    app = FastAPI(
        title="mediamon",
        summary="Read API of mediamon: stored articles, matches, trends, spikes, claim histories, search.",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.include_router(
        api_router(
            sessions,
            clock=clock,
            on_theme_threshold=on_theme_threshold,
            api_token=api_token,
            allowed_private_hosts=allowed_private_hosts,
        )
    )
    app.include_router(dashboard_router(sessions, clock=clock, on_theme_threshold=on_theme_threshold))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def subscription_of(token: str) -> Subscription | None:
        if secret_key is None:
            return None
        subscription_id = read_token(secret_key, token)
        if subscription_id is None:
            return None
        with sessions() as session:
            return session.get(Subscription, subscription_id)

    @app.get("/healthz", response_class=PlainTextResponse, include_in_schema=False)
    def healthz() -> str:
        return "ok"

    @app.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
    def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
        """The page behind the link: a button, and nothing changed until it is pressed."""
        subscription = subscription_of(token)
        if subscription is None:
            return _invalid(request)
        return TEMPLATES.TemplateResponse(
            request,
            "unsubscribe.html",
            {"address": _masked(subscription.address), "active": subscription.active, "done": False},
        )

    @app.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def unsubscribe_now(request: Request, token: str) -> HTMLResponse:
        """RFC 8058 one-click: ``List-Unsubscribe=One-Click`` in a form body; no login, no redirect."""
        form = await request.form()
        if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
            return HTMLResponse("the body must be List-Unsubscribe=One-Click (RFC 8058)", status_code=400)
        subscription = subscription_of(token)
        if subscription is None or not unsubscribe(sessions, subscription.id, clock()):
            return _invalid(request)
        return TEMPLATES.TemplateResponse(
            request,
            "unsubscribe.html",
            {"address": _masked(subscription.address), "active": False, "done": True},
        )

    return app


def _invalid(request: Request) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "invalid.html", {}, status_code=404)


def _masked(address: str) -> str:
    """Enough of the address to recognise it, not enough to harvest it from a forwarded link."""
    if "://" in address:
        scheme, _, rest = address.partition("://")
        return f"{scheme}://{rest[:4]}…"
    local, _, domain = address.partition("@")
    return f"{local[:2]}…@{domain}"
