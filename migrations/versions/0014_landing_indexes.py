"""Two indexes covering the staff landing pages' queries (issue #24).

`/dashboard` and `/evaluation` work out every visible cohort's phase (running, upcoming,
finished) and order from its scheduled meetings' count, first start, last end and next start
(services/cohort_list.timeline). With meeting (cohort_id, status, starts_at, ends_at) SQLite
reads them from the index alone instead of each meeting row.

The dashboard's cards count the people who missed two meetings or more in a page of cohorts:
with attendance (cohort_id, state, participant_id, meeting_id) only the absent and excused marks
are read, from the index, instead of every mark's row (about one in eight marks is a miss).

Revision ID: 0014
Revises: 0013
Created: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEXES = {"meeting": ("ix_meeting_cohort_timeline",
                       ["cohort_id", "status", "starts_at", "ends_at"]),
           "attendance": ("ix_attendance_cohort_missed",
                          ["cohort_id", "state", "participant_id", "meeting_id"])}


def upgrade() -> None:
    for table, (name, columns) in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, (name, _columns) in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
