"""`mediamon serve`: the web app (one-click unsubscribe) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from mediamon.cli.common import console, fail, load_settings, opened_store


def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Serve the web app; MEDIAMON_PUBLIC_URL must be the address users reach it at."""
    import uvicorn

    from web.app import create_app

    settings = load_settings()
    if settings.secret_key is None:  # not delivery_configured (stated so for the type checker)
        raise fail("MEDIAMON_SECRET_KEY is required: it checks the signed unsubscribe links")
    with opened_store(settings) as store:
        console.print(f"serving on http://{host}:{port} (public URL {settings.public_url})")
        uvicorn.run(create_app(store.sessions, settings.secret_key.get_secret_value()), host=host, port=port)
