"""An index of each cohort's meetings by status and time, covering the landing pages' phases.

`/dashboard` and `/evaluation` work out every visible cohort's phase (running, upcoming,
finished) and order from its scheduled meetings' count, first start, last end and next start
(services/cohort_list.timeline). With (cohort_id, status, starts_at, ends_at) SQLite reads them
from the index alone instead of each meeting row (issue #24).

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


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_cohort_timeline",
                              ["cohort_id", "status", "starts_at", "ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_cohort_timeline")
