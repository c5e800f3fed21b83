"""Buddy check-ins: after each buddy exchange task, did the participant meet their buddy?

Adds the buddy_check_in table (one answer per participant and task: met, not_yet or
could_not, with an optional note and whether the participant shares it); rows go with the
participant and the task.

Revision ID: 0009
Revises: 0008
Created: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buddy_check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "answer IN ('met', 'not_yet', 'could_not')",
            name=op.f("ck_buddy_check_in_buddy_check_in_answer"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_buddy_check_in_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_buddy_check_in_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buddy_check_in")),
        sa.UniqueConstraint(
            "participant_id",
            "task_id",
            name=op.f("uq_buddy_check_in_participant_id_task_id"),
        ),
    )
    with op.batch_alter_table("buddy_check_in", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_buddy_check_in_participant_id"), ["participant_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_buddy_check_in_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("buddy_check_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buddy_check_in_task_id"))
        batch_op.drop_index(batch_op.f("ix_buddy_check_in_participant_id"))

    op.drop_table("buddy_check_in")
