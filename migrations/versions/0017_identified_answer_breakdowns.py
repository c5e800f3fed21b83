"""A named (identified) answer keeps the organisation and role its participant had when it was
given: the survey's figures per organisation or role were read from the participant's current
values, so moving someone to another organisation, or erasing them, changed two published
groups by exactly that person's answer, to anyone who saw the figures before and after.

Adds identified_response.organisation and .role, filled for the answers already stored from
their participants' values now (the best that is known of them).

Revision ID: 0017
Revises: 0016
Created: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("organisation", "role")


def upgrade() -> None:
    # Added in place (no table rebuild on SQLite), so the table's revision triggers stay.
    for column in COLUMNS:
        op.add_column("identified_response",
                      sa.Column(column, sa.String(), nullable=False, server_default=""))
    op.execute(
        "UPDATE identified_response SET "
        "organisation = (SELECT participant.organisation FROM participant "
        "WHERE participant.id = identified_response.participant_id), "
        "role = (SELECT participant.role FROM participant "
        "WHERE participant.id = identified_response.participant_id)")


def downgrade() -> None:
    # In place too (SQLite 3.35 or later), not by rebuilding the table, which drops triggers.
    for column in COLUMNS:
        op.execute(f"ALTER TABLE identified_response DROP COLUMN {column}")
