"""`mediamon serve`: the web app (read API, dashboard, one-click unsubscribe) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from mediamon.cli.common import console, errors, load_settings, opened_store


def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
) -> None:
    """Serve the dashboard, the read API and unsubscribe links; MEDIAMON_PUBLIC_URL must be the
    address users reach it at. Works on the embedded SQLite store as on PostgreSQL."""
    import uvicorn

    from web.app import create_app

    settings = load_settings()
    secret_key = settings.secret_key.get_secret_value() if settings.secret_key else None
    api_token = settings.api_token.get_secret_value() if settings.api_token else None
    if secret_key is None:
        errors.print("note: MEDIAMON_SECRET_KEY is not set, so no unsubscribe link is accepted")
    if api_token is None:
        errors.print("note: MEDIAMON_API_TOKEN is not set, so the API's writes (feed add/remove) are refused")
    with opened_store(settings) as store:
        app = create_app(
            store.sessions,
            secret_key,
            api_token=api_token,
            cors_origins=settings.cors_origins,
            on_theme_threshold=settings.relevance_threshold,
            allowed_private_hosts=settings.allowed_private_hosts,
        )
        console.print(f"serving on http://{host}:{port} (public URL {settings.public_url})")
        uvicorn.run(app, host=host, port=port)
