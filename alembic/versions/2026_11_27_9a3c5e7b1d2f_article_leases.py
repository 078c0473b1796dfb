"""article leases: the worker task working on an article holds it for a while and renews it

Revision ID: 9a3c5e7b1d2f
Revises: 8e2f3a4b5c6d
Create Date: 2026-11-27 10:00:00

- ``article.lease_until``: until when the fetch or extract task that claimed the article holds
  it (renewed by the task's heartbeat); indexed for the sweeper, which re-enqueues the articles
  whose lease ran out (their worker died).
- ``article.lease_owner``: which task holds it (host, process and a random token), so only the
  holder renews or releases it.

Plain ``add_column``/``create_index`` (and ``drop_column`` down): SQLite does each in place,
without rebuilding the table (a rebuild would drop the full-text search triggers on ``article``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schema.models

revision: str = "9a3c5e7b1d2f"
down_revision: str | None = "8e2f3a4b5c6d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("article", sa.Column("lease_until", schema.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column("article", sa.Column("lease_owner", sa.String(length=200), nullable=True))
    op.create_index(op.f("ix_article_lease_until"), "article", ["lease_until"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_article_lease_until"), table_name="article")
    # Plain drop_column too (SQLite 3.35+ drops a column in place; no rebuild, triggers kept).
    op.drop_column("article", "lease_owner")
    op.drop_column("article", "lease_until")
