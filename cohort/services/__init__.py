"""The seam between the edges (CLI, web) and the core, one module per use-case area.

Each public function is one use case and runs inside the caller's transaction
(`db.transaction`), so a failure anywhere leaves nothing behind.
"""

from .calendars import (  # noqa: F401
    CalendarDocument,
    calendar_feed_token,
    calendar_text,
    cohort_calendar,
    feed_calendar,
    meeting_invitation,
    participant_by_email,
    participant_calendar,
    renew_calendar_feed,
    revoke_calendar_feed,
)
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
