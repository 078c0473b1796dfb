"""claim match features: what decided a match, kept for "why this matched"

Revision ID: b4d6f8a0c2e4
Revises: 9a3c5e7b1d2f
Create Date: 2026-11-27 13:10:00

- ``claim_match.features`` (JSON, nullable): the shares of the claim's entities and cue terms
  in the evidence; for semantic matches also the cosine to the claim's closest wording, the
  margin over the next-closest claim and the denial cue (``matching.claims.ClaimHit``). Matches
  stored before this revision have none: the digest then says nothing about why.

Plain ``add_column``/``drop_column``: SQLite does each in place, without a table rebuild.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4d6f8a0c2e4"
down_revision: str | None = "9a3c5e7b1d2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("claim_match", sa.Column("features", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("claim_match", "features")
