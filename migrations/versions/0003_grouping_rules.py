"""Facilitators' hard rules for groupings: two participants always together or never together.

Adds the grouping_rule table (one pair per cohort and grouping, or all groupings when the key
is empty); rows go with the participants they name.

Revision ID: 0003
Revises: 0002
Created: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grouping_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("grouping_key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('together', 'apart')", name=op.f("ck_grouping_rule_grouping_rule_kind")
        ),
        sa.CheckConstraint(
            "first_id < second_id", name=op.f("ck_grouping_rule_grouping_rule_pair_order")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohort.id"],
            name=op.f("fk_grouping_rule_cohort_id_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["first_id"],
            ["participant.id"],
            name=op.f("fk_grouping_rule_first_id_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["second_id"],
            ["participant.id"],
            name=op.f("fk_grouping_rule_second_id_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grouping_rule")),
        sa.UniqueConstraint(
            "cohort_id",
            "grouping_key",
            "first_id",
            "second_id",
            name=op.f("uq_grouping_rule_cohort_id_grouping_key_first_id_second_id"),
        ),
    )
    with op.batch_alter_table("grouping_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grouping_rule_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grouping_rule_first_id"), ["first_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grouping_rule_second_id"), ["second_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grouping_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grouping_rule_second_id"))
        batch_op.drop_index(batch_op.f("ix_grouping_rule_first_id"))
        batch_op.drop_index(batch_op.f("ix_grouping_rule_cohort_id"))

    op.drop_table("grouping_rule")
