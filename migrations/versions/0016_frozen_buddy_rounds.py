"""Released buddy rounds keep their pairs: the evaluation report's buddy figures must not
change when the groups are planned again, repaired or a person is moved or erased later.

Adds frozen_buddy_round (one row per released buddy exchange task whose pairs are kept) and
frozen_buddy_member (the members of each of its pairs: grouping, rotation, group number,
participant), both going with their cohort and task, with the cohort revision triggers
(cohort/db/revisions.py) installed for them. Existing released rounds are not frozen here:
the services freeze every released round before the next change to the groups, so the first
change after this upgrade keeps the pairs the rounds have now.

Revision ID: 0016
Revises: 0015
Created: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cohort.db import revisions

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATHS = {"frozen_buddy_round": ("cohort_id", None),
         "frozen_buddy_member": ("cohort_id", None)}


def upgrade() -> None:
    op.create_table(
        "frozen_buddy_round",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohort.id"], ondelete="CASCADE",
                                name=op.f("fk_frozen_buddy_round_cohort_id_cohort")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE",
                                name=op.f("fk_frozen_buddy_round_task_id_task")),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_frozen_buddy_round")),
    )
    with op.batch_alter_table("frozen_buddy_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frozen_buddy_round_cohort_id"), ["cohort_id"],
                              unique=False)
    op.create_table(
        "frozen_buddy_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("grouping_key", sa.String(), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohort.id"], ondelete="CASCADE",
                                name=op.f("fk_frozen_buddy_member_cohort_id_cohort")),
        sa.ForeignKeyConstraint(["task_id"], ["frozen_buddy_round.task_id"],
                                ondelete="CASCADE",
                                name=op.f("fk_frozen_buddy_member_task_id_frozen_buddy_round")),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE",
                                name=op.f("fk_frozen_buddy_member_participant_id_participant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frozen_buddy_member")),
    )
    with op.batch_alter_table("frozen_buddy_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frozen_buddy_member_cohort_id"), ["cohort_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_frozen_buddy_member_task_id"), ["task_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_frozen_buddy_member_participant_id"),
                              ["participant_id"], unique=False)
    revisions.install(op.get_bind(), PATHS)


def downgrade() -> None:
    revisions.uninstall(op.get_bind(), PATHS)
    with op.batch_alter_table("frozen_buddy_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frozen_buddy_member_participant_id"))
        batch_op.drop_index(batch_op.f("ix_frozen_buddy_member_task_id"))
        batch_op.drop_index(batch_op.f("ix_frozen_buddy_member_cohort_id"))
    op.drop_table("frozen_buddy_member")
    with op.batch_alter_table("frozen_buddy_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frozen_buddy_round_cohort_id"))
    op.drop_table("frozen_buddy_round")
