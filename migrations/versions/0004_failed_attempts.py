"""Failed logins and wrong check-in codes counted in the database, shared by every worker.

Adds the failed_attempt table (scope, hashed key, time); rows live only for the throttling
window, nothing in it names a person or an address.

Revision ID: 0004
Revises: 0003
Created: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failed_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_attempt")),
    )
    with op.batch_alter_table("failed_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failed_attempt_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_failed_attempt_lookup", ["scope", "key_hash", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("failed_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_failed_attempt_lookup")
        batch_op.drop_index(batch_op.f("ix_failed_attempt_at"))
    op.drop_table("failed_attempt")
