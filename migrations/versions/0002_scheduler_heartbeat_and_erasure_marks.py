"""The scheduler's heartbeat (for /healthz) and the marks of erased personal data.

Adds the scheduler_heartbeat table, participant.erased_at (an erased participant stays as an
unnamed placeholder so results do not change) and cohort.personal_data_purged_at (set by
`cohort purge`). Both columns are nullable: existing rows need no value. Downgrading drops the
columns, which SQLite does by copying the table (batch mode, foreign keys off: see
cohort/db/migrate.py).

Revision ID: 0002
Revises: 0001
Created: 2025-06-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_result", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeat")),
    )
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("personal_data_purged_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_column("personal_data_purged_at")

    op.drop_table("scheduler_heartbeat")
