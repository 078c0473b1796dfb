"""kb versions seen: which knowledge-base version is the newest, for the workers' rematch

Revision ID: c5e7a9b1d3f6
Revises: b4d6f8a0c2e4
Create Date: 2026-11-27 21:10:00

- ``kb_version``: each knowledge-base version a worker has matched with, and when one first
  did (``schema.writes.sync_kb``). ``workers.tasks.rematch_stale`` brings stored articles up to
  the newest; a worker still on an older version during a rollout leaves them alone.
  Empty after this upgrade: the first worker to start fills it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schema.models

revision: str = "c5e7a9b1d3f6"
down_revision: str | None = "b4d6f8a0c2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_version",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", schema.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_kb_version")),
    )


def downgrade() -> None:
    op.drop_table("kb_version")
