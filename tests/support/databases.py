"""Database fixtures: every test that needs a store runs on SQLite and on the real PostgreSQL.

Schemas are built by ``alembic upgrade head`` (never ``create_all``), so the tests exercise the
migrations users run. PostgreSQL gets one database per xdist worker, emptied between tests;
SQLite gets a fresh file per test, copied from a migrated template.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from schema.db import make_engine, make_session_factory, upgrade_database
from schema.models import Base
from services.wiring import Store

PG_ADMIN_DSN = os.environ.get("MEDIAMON_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_database_url(worker: str) -> str:
    # One database per xdist worker *and* per run, so two test runs on one machine (a developer's
    # and CI's) never drop each other's database.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    name = f"mediamon_test_{run}_{worker}"
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_DSN} is required for the tests and did not answer: {exc}")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    url = _pg_database_url(worker_id)
    upgrade_database(url)
    yield url
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "mediamon.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_url")
    truncate_all(url)
    yield url


def truncate_all(url: str) -> None:
    """Empty every table of a PostgreSQL test database (faster than re-migrating)."""
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    engine = make_engine(database_url)
    yield Store(engine, make_session_factory(engine))
    engine.dispose()


@pytest.fixture
def sessions(db: Store) -> sessionmaker[Session]:
    return db.sessions


@pytest.fixture
def pg_sessions(pg_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the emptied PostgreSQL database alone: for what only it does (row locks).
    A statement waiting on a lock fails after 10 s, so a lock the code should skip fails the
    test instead of hanging it."""
    truncate_all(pg_url)
    engine = make_engine(pg_url)

    @event.listens_for(engine, "connect")
    def _lock_timeout(connection: Any, _record: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '10s'")
        connection.commit()

    yield make_session_factory(engine)
    engine.dispose()
