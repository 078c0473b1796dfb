"""Migrations are the only way a schema is made: they must match the models and run both ways."""

from __future__ import annotations

from datetime import UTC, date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from alembic import command
from schema.db import alembic_config, make_engine, make_session_factory, managed_by_models
from schema.models import Base, TrendHour, TrendTotal
from tests.support.news import news
from tests.support.stored import store_matched, sync_shipped_kb


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": managed_by_models}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    engine.dispose()


def test_the_all_outlets_rollup_migration_recounts_what_the_write_path_kept(database_url):
    """Articles stored through the write path, then the all-outlets rollup dropped and rebuilt
    by its migration: the recount equals what the write path had maintained row by row."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    articles = [a for a in news() if a.published.astimezone(UTC).date() == date(2025, 5, 2)][:12]
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for i, article in enumerate(articles):
            store_matched(
                session,
                article,
                entities=["pakistan", "ttp", "isi"][: 1 + i % 3],
                claims=[("isi-arms-militant-proxies", "asserts" if i % 2 else "denies")],
                relevance=i / 12,
            )

    def rollups() -> dict[str, list[tuple[object, ...]]]:
        with sessions() as session:
            return {
                model.__tablename__: sorted(tuple(row) for row in session.execute(select(model.__table__)))
                for model in (TrendTotal, TrendHour)
            }

    kept = rollups()
    assert len(kept["trend_hour"]) > 12 and any(r[0] == "pair" for r in kept["trend_total"])
    config = alembic_config(database_url)
    command.downgrade(config, "7c1d2e3f4a5b")
    assert not {"trend_total", "trend_hour"} & set(inspect(engine).get_table_names())
    command.upgrade(config, "head")
    assert rollups() == kept
    engine.dispose()
