"""Cohorts start as drafts: nothing is sent until the facilitator launches them.

Adds cohort.launched_at (NULL for a draft). Every cohort that exists already has been sending
its emails, so it counts as launched: launched_at is set to its created_at.

Revision ID: 0007
Revises: 0006
Created: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.add_column(sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE cohort SET launched_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_column("launched_at")
