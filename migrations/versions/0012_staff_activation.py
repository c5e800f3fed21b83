"""Staff invite staff: activation links, and accounts that may not start cohorts.

Adds the staff_activation table (SHA-256 of a single-use, expiring token that lets an invited
colleague set their password) and staff_user.may_create_cohorts (true for every existing
account; false for accounts a cohort's owner invited).

Revision ID: 0012
Revises: 0011
Created: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("may_create_cohorts", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.alter_column("may_create_cohorts", server_default=None)
    op.create_table(
        "staff_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"],
            name=op.f("fk_staff_activation_user_id_staff_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_activation")),
    )
    with op.batch_alter_table("staff_activation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_activation_user_id"), ["user_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_staff_activation_token_hash"), ["token_hash"],
                              unique=True)


def downgrade() -> None:
    with op.batch_alter_table("staff_activation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_activation_token_hash"))
        batch_op.drop_index(batch_op.f("ix_staff_activation_user_id"))
    op.drop_table("staff_activation")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("may_create_cohorts")
