"""dates with provenance, the trend rollup and full-text search

Revision ID: 7c1d2e3f4a5b
Revises: 095e37b22c32
Create Date: 2026-11-27 05:30:00

- ``article.published_source``/``date_note``/``dated_at``/``source``: where a date came from,
  what was refused, the date trends count by, and the outlet.
- ``trend_count``: daily counters maintained by the write path (``schema.rollup``), filled
  here from the articles already stored.
- Full-text search, per dialect and outside the ORM models (``alembic check`` is told to
  ignore it in ``alembic/env.py``): on PostgreSQL a stored ``tsvector`` column with a GIN
  index; on SQLite an FTS5 table over ``article`` kept in step by triggers.
"""

from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

import schema.models
from schema import rollup

revision: str = "7c1d2e3f4a5b"
down_revision: str | None = "095e37b22c32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The text search vector: title weighs more than body (ranked A over B).
PG_SEARCH_VECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(text, '')), 'B')"
)


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "published_source",
                sa.Enum("page", "feed", "url", "first_seen", name="datesource", native_enum=False, length=20),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("date_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("dated_at", schema.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_article_dated_at", ["dated_at"], unique=False)
        batch_op.create_index("ix_article_source_dated_at", ["source", "dated_at"], unique=False)

    op.create_table(
        "trend_count",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("stance", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", "stance", "day", "source", name=op.f("pk_trend_count")),
    )
    with op.batch_alter_table("trend_count", schema=None) as batch_op:
        batch_op.create_index("ix_trend_count_kind_day", ["kind", "day"], unique=False)

    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE article ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({PG_SEARCH_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_article_search_tsv ON article USING gin (search_tsv)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE article_fts USING fts5("
            "title, text, content='article', content_rowid='id', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN "
            "INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN "
            "INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END"
        )
        op.execute(
            "CREATE TRIGGER article_fts_update AFTER UPDATE OF title, text ON article BEGIN "
            "INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
            "INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END"
        )
        op.execute("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")


def _backfill() -> None:
    """Outlet and trend date for articles already stored, and their counts in the rollup."""
    bind = op.get_bind()
    articles = sa.table(
        "article",
        sa.column("id", sa.Integer),
        sa.column("canonical_url", sa.String),
        sa.column("state", sa.String),
        sa.column("relevance", sa.Float),
        sa.column("published", schema.models.UTCDateTime),
        sa.column("created_at", schema.models.UTCDateTime),
        sa.column("dated_at", schema.models.UTCDateTime),
        sa.column("source", sa.String),
        sa.column("date_note", sa.Text),
    )
    mention = sa.table("mention", sa.column("article_id", sa.Integer), sa.column("entity_id", sa.String))
    claim = sa.table(
        "claim_match", sa.column("article_id", sa.Integer), sa.column("claim_id", sa.String), sa.column("stance", sa.String)
    )
    entities: dict[int, list[str]] = {}
    for article_id, entity_id in bind.execute(sa.select(mention.c.article_id, mention.c.entity_id)):
        entities.setdefault(article_id, []).append(entity_id)
    claims: dict[int, list[tuple[str, str | None]]] = {}
    for article_id, claim_id, stance in bind.execute(sa.select(claim.c.article_id, claim.c.claim_id, claim.c.stance)):
        claims.setdefault(article_id, []).append((claim_id, stance))
    counts: Counter[rollup.CounterKey] = Counter()
    rows = bind.execute(
        sa.select(
            articles.c.id, articles.c.canonical_url, articles.c.state, articles.c.relevance,
            articles.c.published, articles.c.created_at,
        )
    ).all()
    for row in rows:
        dated_at = row.published or row.created_at
        source = (urlsplit(row.canonical_url).hostname or "").lower().removeprefix("www.")
        bind.execute(
            articles.update()
            .where(articles.c.id == row.id)
            .values(dated_at=dated_at, source=source, date_note="dated before date provenance was recorded")
        )
        if row.state == "done" and dated_at is not None:
            counts += rollup.contribution(
                dated_at, source, row.relevance, entities.get(row.id, []), claims.get(row.id, [])
            )
    if counts:
        op.bulk_insert(
            sa.table(
                "trend_count",
                sa.column("kind", sa.String), sa.column("key", sa.String), sa.column("stance", sa.String),
                sa.column("day", sa.Date), sa.column("source", sa.String), sa.column("n", sa.Integer),
            ),
            # The per-outlet daily grain (the later tables are filled by their own migration).
            next(r for r in rollup.ROLLUPS if r.model.__tablename__ == "trend_count").rows(counts),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_article_search_tsv")
        op.execute("ALTER TABLE article DROP COLUMN IF EXISTS search_tsv")
    else:
        for trigger in ("article_fts_insert", "article_fts_delete", "article_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    with op.batch_alter_table("trend_count", schema=None) as batch_op:
        batch_op.drop_index("ix_trend_count_kind_day")
    op.drop_table("trend_count")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_source_dated_at")
        batch_op.drop_index("ix_article_dated_at")
        batch_op.drop_column("source")
        batch_op.drop_column("dated_at")
        batch_op.drop_column("date_note")
        batch_op.drop_column("published_source")
