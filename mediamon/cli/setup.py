"""`mediamon config` and `mediamon db upgrade`: what is configured, and the schema."""

from __future__ import annotations

import typer
from rich.table import Table

from mediamon.cli.common import console, load_settings, opened_store

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


def show_config() -> None:
    """Print the effective settings (secrets masked)."""
    settings = load_settings()
    table = Table("setting", "environment variable", "value", title="mediamon settings")
    for name, value in settings.masked().items():
        table.add_row(name, f"MEDIAMON_{name.upper()}", value)
    console.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest migration."""
    settings = load_settings()
    with opened_store(settings):
        pass
    console.print(f"database at [bold]{settings.masked()['database_url']}[/] is up to date")
