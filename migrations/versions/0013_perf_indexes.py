"""Three redundant indexes of the delivery table go (issue #24).

`ix_delivery_cohort_id` is the first column of the unique constraint and of
`ix_delivery_cohort_batches`, `ix_delivery_state` the first of `ix_delivery_due`, and every query
on `send_at` also names the state or the cohort (the outbox's due rows, a cohort's batches), so
`ix_delivery_send_at` served nothing those do not. Each planned email (about 100 per
participant) paid for all three on insert and on every state change while sending; they also
tempted SQLite's planner away from the composite indexes.

Revision ID: 0013
Revises: 0012
Created: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDUNDANT = {"ix_delivery_cohort_id": ["cohort_id"], "ix_delivery_state": ["state"],
             "ix_delivery_send_at": ["send_at"]}


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        for name in REDUNDANT:
            batch_op.drop_index(name)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        for name, columns in REDUNDANT.items():
            batch_op.create_index(name, columns, unique=False)
