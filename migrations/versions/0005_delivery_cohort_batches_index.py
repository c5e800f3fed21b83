"""An index of a cohort's emails by state and time, covering the overview's email batches.

The cohort overview counts a cohort's pending emails of the next 14 days per (time, kind,
anchor) and its failed ones; with (cohort_id, state, send_at, kind, anchor) both are read from
the index alone instead of the cohort's whole delivery table (about 20 rows per participant).

Revision ID: 0005
Revises: 0004
Created: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_cohort_batches",
            ["cohort_id", "state", "send_at", "kind", "anchor"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_cohort_batches")
