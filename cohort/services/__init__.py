"""The seam between the edges (CLI, web) and the core, one module per use-case area.

Each public function is one use case and runs inside the caller's transaction
(`db.transaction`), so a failure anywhere leaves nothing behind.
"""

from .cohorts import (  # noqa: F401
    NewCohort,
    NotFound,
    cancel_meeting,
    cohort_as_dict,
    cohort_programme,
    count_cohorts,
    create_cohort,
    current_plan,
    get_cohort,
    group_rows,
    import_participants,
    list_cohorts,
    remove_participant,
    replan,
    reschedule_meeting,
)
from .outbox import (  # noqa: F401
    OutboxView,
    delivery_as_dict,
    dismiss_review,
    get_delivery,
    outbox_view,
    resend,
    set_facilitator_email,
    set_paused,
)
from .participant_access import (  # noqa: F401
    access_by_link_id,
    access_by_token,
    personal_token,
    revoke_links,
)
from .participation import (  # noqa: F401
    answer_prompt,
    facilitator_digest,
    next_meeting_key,
    participant_page,
    set_task_status,
)
