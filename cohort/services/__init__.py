"""The seam between the edges (CLI, web) and the core, one module per use-case area.

Each public function is one use case and runs inside the caller's transaction
(`db.transaction`), so a failure anywhere leaves nothing behind.
"""

from .cohorts import (  # noqa: F401
    NewCohort,
    NotFound,
    cohort_as_dict,
    cohort_programme,
    count_cohorts,
    create_cohort,
    current_plan,
    get_cohort,
    group_rows,
    import_participants,
    list_cohorts,
    replan,
    reschedule_meeting,
)
from .grouping import (  # noqa: F401
    GroupingProblem,
    GroupsView,
    ParticipantGroup,
    RepairView,
    forbid_pair,
    form_missing_groups,
    groupings,
    list_groups,
    list_rules,
    lock_pair,
    move_participant,
    participant_groups,
    participant_names,
    plan_groups,
    remove_rule,
    repair_groups,
)
