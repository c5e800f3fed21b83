"""Server-side logout for participants, and atomic throttling counts.

Adds participant.session_version (a participant's logout moves it on, so a copied session
cookie stops working), and replaces failed_attempt (one row per failure, checked and then
written: concurrent guesses slipped through) with attempt_count (one row per key, counted by
a single upsert). The rows of failed_attempt only mattered for a minute: they are not carried
over.

Revision ID: 0008
Revises: 0007
Created: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                      server_default="1"))
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.alter_column("session_version", server_default=None)
    op.create_table(
        "attempt_count",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_hash", name=op.f("pk_attempt_count")),
    )
    with op.batch_alter_table("attempt_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempt_count_window_start"), ["window_start"],
                              unique=False)
    with op.batch_alter_table("failed_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_failed_attempt_lookup")
        batch_op.drop_index(batch_op.f("ix_failed_attempt_at"))
    op.drop_table("failed_attempt")


def downgrade() -> None:
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
    with op.batch_alter_table("attempt_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_count_window_start"))
    op.drop_table("attempt_count")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("session_version")
