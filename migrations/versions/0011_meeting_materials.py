"""Materials of a meeting: links and uploaded files.

Adds the meeting_material table (a link or an uploaded file per row, stored under a random
name in the materials folder; optionally shown only after the meeting); rows go with the
cohort and the meeting.

Revision ID: 0011
Revises: 0010
Created: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("filename", sa.String(), nullable=True),
        sa.Column("file_type", sa.String(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("stored_name", sa.String(), nullable=True),
        sa.Column("after_meeting", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"],
            name=op.f("fk_meeting_material_cohort_id_cohort"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"],
            name=op.f("fk_meeting_material_meeting_id_meeting"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_material")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_meeting_material_stored_name")),
    )
    with op.batch_alter_table("meeting_material", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_material_cohort_id"), ["cohort_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_material_meeting_id"), ["meeting_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting_material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_material_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_material_cohort_id"))
    op.drop_table("meeting_material")
