"""The pool where anonymous answers wait until they can be stored without a link to anyone.

`anonymous_answer_pool` holds an answer between the transaction that marks the invitation
completed and the batch that moves at least k answers (or, once the survey has closed, all
that wait) into `anonymous_response` in random order (see services/surveys.py). It has no
time and no sequence; on SQLite it is WITHOUT ROWID, like `anonymous_response`. Downgrading
drops the answers still waiting: let the scheduler move them first (surveys closed).

Revision ID: 0006
Revises: 0005
Created: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymous_answer_pool",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("breakdown_value", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_anonymous_answer_pool_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_anonymous_answer_pool")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("anonymous_answer_pool", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anonymous_answer_pool_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("anonymous_answer_pool", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anonymous_answer_pool_survey_id"))
    op.drop_table("anonymous_answer_pool")
