"""The web face: the read API, one-click unsubscribe and the dashboard (FastAPI)."""
