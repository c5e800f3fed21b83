"""A revision counter per cohort, moved by triggers on every write to the cohort's data
(issue #24): pages that change only on writes are rendered once per revision and kept
(models/revisions.py, cohort/db/revisions.py, web/page_cache.py).

The tables are listed here as they are at this revision, so the migration does not change when
tables are added later: a later migration that adds a table of a cohort's data installs its
triggers itself (`revisions.install`), and one that rebuilds a table in SQLite's batch mode
(which drops a table's triggers) installs them again. tests/db/test_migrate.py checks that a
migrated database has exactly the triggers `create_schema` makes.

Revision ID: 0015
Revises: 0014
Created: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cohort.db import revisions

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_OWN_COLUMN = ("activityentry", "announcement", "attendance", "attendance_import",
                 "cohort_group", "cohortmailsettings", "cohortstaff", "delivery",
                 "evaluator_note", "grouping_rule", "meeting", "meeting_material",
                 "participant", "prompt", "quote", "survey", "task")
BY_PARTICIPANT = ("buddy_check_in", "calendar_feed", "groupmember", "identified_response",
                  "invitation", "participantlink", "promptanswer", "taskstatus")
PATHS = {"cohort": ("id", None),
         **{table: ("cohort_id", None) for table in BY_OWN_COLUMN},
         **{table: ("participant_id", "participant") for table in BY_PARTICIPANT},
         "anonymous_answer_pool": ("survey_id", "survey"),
         "anonymous_response": ("survey_id", "survey"),
         "check_in_code": ("meeting_id", "meeting")}


def upgrade() -> None:
    op.create_table(
        "cohort_revision",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohort.id"], ondelete="CASCADE",
                                name=op.f("fk_cohort_revision_cohort_id_cohort")),
        sa.PrimaryKeyConstraint("cohort_id", name=op.f("pk_cohort_revision")),
    )
    op.execute("INSERT INTO cohort_revision (cohort_id, number) SELECT id, 1 FROM cohort")
    revisions.install(op.get_bind(), PATHS)


def downgrade() -> None:
    revisions.uninstall(op.get_bind(), PATHS)
    op.drop_table("cohort_revision")
