"""Engine and session factory from settings: the one place that knows the database URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        # psycopg 3 is the driver we ship; a plain postgresql:// URL should just work.
        url = url.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)
    # The report queries are short: PostgreSQL's JIT compiled some of them for 20-90 ms each,
    # more than the query itself (bench/reports.py at 1M articles).
    kwargs.setdefault("connect_args", {"options": "-c jit=off"})
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(database_url: str) -> Any:
    """An Alembic Config pointing at the project's migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Create or upgrade the schema. Alembic is the only way a schema is created."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def insert_for(session: Session, model: type[Any]) -> Any:
    """A dialect insert with ``on_conflict_do_nothing``/``do_update`` (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# Full-text search lives outside the ORM models, one form per dialect (migration 7c1d2e3f4a5b):
# an FTS5 table and its shadow tables on SQLite, a generated tsvector column and its GIN index
# on PostgreSQL. NB: a batch migration that recreates ``article`` on SQLite drops the FTS
# triggers with it; such a migration must create them again.
SEARCH_OBJECTS = ("article_fts", "search_tsv", "ix_article_search_tsv")


def managed_by_models(
    _object: object, name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """For Alembic's comparisons: everything but the search objects is described by the models."""
    return not (name or "").startswith(SEARCH_OBJECTS)
