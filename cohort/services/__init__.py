"""The seam between the edges (CLI, web) and the core, one module per use-case area.

Each public function is one use case and runs inside the caller's transaction
(`db.transaction`), so a failure anywhere leaves nothing behind.
"""

from . import accounts, activity, dashboard, meetings, participants  # noqa: F401
from .cohorts import (  # noqa: F401
    NewCohort,
    NotFound,
    add_participants,
    cohort_as_dict,
    cohort_programme,
    count_cohorts,
    create_cohort,
    current_plan,
    get_cohort,
    group_rows,
    import_participants,
    list_cohorts,
    meeting_overrides,
    replan,
    reschedule_meeting,
)
