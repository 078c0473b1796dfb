"""the trend rollup over all outlets: per UTC day (with entity pairs) and per UTC hour

Revision ID: 8e2f3a4b5c6d
Revises: 7c1d2e3f4a5b
Create Date: 2026-11-27 09:00:00

- ``trend_total``: ``trend_count`` summed over outlets, plus ``pair`` counters (articles that
  mention two entities together), so reports over all outlets add up twenty times fewer rows
  and "what co-occurs with X" is an index range instead of a join over the mentions.
- ``trend_hour``: the same counters per UTC hour, for hourly reports and days in time zones
  whose offset is whole hours.
- ``ix_trend_count_source_kind_day``: one outlet's daily counters as one index range.

Both are filled here by a recount of the stored articles with the write path's own
``schema.rollup.contribution``; from then on the write path keeps them (``schema.rollup.apply``).
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schema.models
from schema import rollup

revision: str = "8e2f3a4b5c6d"
down_revision: str | None = "7c1d2e3f4a5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trend_total",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=201), nullable=False),
        sa.Column("stance", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "day", "key", "stance", name=op.f("pk_trend_total")),
    )
    op.create_table(
        "trend_hour",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hour", schema.models.UTCDateTime(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("stance", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "hour", "key", "stance", name=op.f("pk_trend_hour")),
    )
    with op.batch_alter_table("trend_count", schema=None) as batch_op:
        batch_op.create_index("ix_trend_count_source_kind_day", ["source", "kind", "day"], unique=False)
    counts = _recount(op.get_bind())
    for table in rollup.ROLLUPS:
        if table.model.__tablename__ in ("trend_total", "trend_hour") and counts:
            op.bulk_insert(table.model.__table__, table.rows(counts))  # type: ignore[arg-type]


def _recount(bind: sa.Connection) -> Counter[rollup.CounterKey]:
    """What every stored article contributes, as the write path counts it."""
    article = sa.table(
        "article",
        sa.column("id", sa.Integer),
        sa.column("state", sa.String),
        sa.column("relevance", sa.Float),
        sa.column("dated_at", schema.models.UTCDateTime),
        sa.column("source", sa.String),
    )
    mention = sa.table("mention", sa.column("article_id", sa.Integer), sa.column("entity_id", sa.String))
    claim = sa.table(
        "claim_match",
        sa.column("article_id", sa.Integer),
        sa.column("claim_id", sa.String),
        sa.column("stance", sa.String),
    )
    entities: dict[int, list[str]] = {}
    for article_id, entity_id in bind.execute(sa.select(mention.c.article_id, mention.c.entity_id)):
        entities.setdefault(article_id, []).append(entity_id)
    claims: dict[int, list[tuple[str, str | None]]] = {}
    for article_id, claim_id, stance in bind.execute(
        sa.select(claim.c.article_id, claim.c.claim_id, claim.c.stance)
    ):
        claims.setdefault(article_id, []).append((claim_id, stance))
    counts: Counter[rollup.CounterKey] = Counter()
    stored = sa.select(article.c.id, article.c.dated_at, article.c.source, article.c.relevance).where(
        article.c.state == "done", article.c.dated_at.is_not(None)
    )
    for row in bind.execute(stored):
        counts.update(
            rollup.contribution(
                row.dated_at, row.source, row.relevance, entities.get(row.id, []), claims.get(row.id, [])
            )
        )
    return counts


def downgrade() -> None:
    with op.batch_alter_table("trend_count", schema=None) as batch_op:
        batch_op.drop_index("ix_trend_count_source_kind_day")
    op.drop_table("trend_hour")
    op.drop_table("trend_total")
