"""The seam between the edges (CLI, web) and the core, one module per use-case area.

Each public function is one use case and runs inside the caller's transaction
(`db.transaction`), so a failure anywhere leaves nothing behind.
"""

from . import (  # noqa: F401
    accounts,
    activity,
    announcements,
    dashboard,
    date_checks,
    group_changes,
    meetings,
    participant_access,
    participants,
    privacy,
    progress,
    staff,
    throttling,
)
from ._lookup import NotFound, cohort_programme, get_cohort, get_meeting  # noqa: F401
from .attendance import (  # noqa: F401
    CheckInRefused,
    ImportOutcome,
    ImportPreview,
    MarksResult,
    MeetingSheet,
    OwnMeetingRow,
    apply_teams_import,
    catch_up_content,
    check_in,
    check_in_code,
    meeting_sheet,
    participant_attendance,
    preview_teams_import,
    set_marks,
)
from .attendance_figures import (  # noqa: F401
    attendance_as_dict,
    attendance_per_meeting,
    attendance_summary,
    export_attendance_csv,
    export_attendance_xlsx,
)
from .buddy_check_ins import (  # noqa: F401
    buddy_rounds,
    buddy_rounds_table,
    check_in_for,
    participant_check_ins,
    record_check_in,
)
from .calendars import (  # noqa: F401
    CalendarDocument,
    calendar_feed_token,
    calendar_feed_tokens,
    calendar_text,
    cohort_calendar,
    feed_calendar,
    made_calendar_feed_token,
    meeting_invitation,
    participant_by_email,
    participant_calendar,
    renew_calendar_feed,
    revoke_calendar_feed,
)
from .cohorts import (  # noqa: F401
    NewCohort,
    add_participants,
    cohort_as_dict,
    count_cohorts,
    create_cohort,
    create_cohort_as,
    group_rows,
    import_participants,
    list_cohorts,
)
from .deliveries import (  # noqa: F401
    AnonymousReminders,
    OutboxEmail,
    OutboxView,
    ResendNeedsConfirmation,
    ResendPlan,
    delivery_as_dict,
    dismiss_review,
    get_delivery,
    hides_state,
    outbox_emails,
    outbox_view,
    resend,
    resend_plan,
    set_facilitator_email,
    set_paused,
)
from .evaluation_notes import (  # noqa: F401
    NoteInvalid,
    add_quote,
    attribution_choices,
    cohort_guides,
    cohort_themes,
    delete_note,
    delete_quote,
    get_note,
    get_quote,
    list_notes,
    list_quotes,
    published_attributions,
    quote_attributions,
    quotes_by_theme,
    save_note,
    tag_quote,
    update_quote,
)
from .grouping import (  # noqa: F401
    GroupingProblem,
    GroupsView,
    ParticipantGroup,
    RepairView,
    form_missing_groups,
    groupings,
    list_groups,
    move_participant,
    participant_groups,
    participant_names,
    participants_groups,
    plan_groups,
    repair_groups,
)
from .grouping_rules import forbid_pair, list_rules, lock_pair, remove_rule  # noqa: F401
from .launching import AlreadyLaunched, launch_cohort, launch_forecast  # noqa: F401
from .outbox_pages import (  # noqa: F401
    OutboxFilters,
    OutboxPage,
    anonymous_reminder_rounds,
    cancel_send_out,
    is_paused,
    outbox_page,
    pending_send_out,
)
from .paper_answers import import_responses  # noqa: F401
from .participant_access import (  # noqa: F401
    access_by_token,
    personal_token,
    revoke_links,
)
from .participation import (  # noqa: F401
    SurveyToAnswer,
    answer_prompt,
    cohort_facts,
    facilitator_digest,
    next_meeting_key,
    participant_page,
    set_task_status,
    survey_for_participant,
)
from .plans import current_plan, meeting_overrides  # noqa: F401
from .reporting import cohort_report, comparison_report, report_facts  # noqa: F401
from .survey_exports import quotes_table, response_rates_table, responses_table  # noqa: F401
from .survey_figures import (  # noqa: F401
    SelfAssessmentChange,
    self_assessment_change,
    survey_breakdown,
    survey_results,
    template_results,
)
from .survey_responses import (  # noqa: F401
    ResponseRate,
    has_answered,
    pending_reminder_recipients,
    response_rates,
)
from .surveys import (  # noqa: F401
    AlreadyAnswered,
    SurveyClosed,
    SurveyNotOpen,
    SurveyUnavailable,
    get_invitation,
    get_survey,
    list_surveys,
    min_group_size_of,
    move_pooled_answers,
    pooled_answers,
    submit_response,
    survey_spec_of,
    survey_state,
)
