"""SQLModel tables, one module per domain; importing this package registers them all."""

from .accounts import (  # noqa: F401
    STAFF_ROLES,
    CohortRole,
    CohortStaff,
    Role,
    StaffActivation,
    User,
)
from .activity import ActivityEntry  # noqa: F401
from .announcements import Announcement  # noqa: F401
from .attendance import Attendance, AttendanceImport, CheckInCode  # noqa: F401
from .buddy_check_ins import (  # noqa: F401
    CHECK_IN_ANSWERS,
    BuddyCheckIn,
    FrozenBuddyMember,
    FrozenBuddyRound,
)
from .calendars import CalendarFeed  # noqa: F401
from .cohorts import (  # noqa: F401
    Cohort,
    Group,
    GroupMember,
    Invitation,
    Meeting,
    Participant,
    Prompt,
    Survey,
    Task,
    utcnow,
)
from .deliveries import CohortMailSettings, Delivery  # noqa: F401
from .grouping import RULE_KINDS, GroupingRule  # noqa: F401
from .materials import MeetingMaterial  # noqa: F401
from .operations import AttemptCount, SchedulerHeartbeat  # noqa: F401
from .participant_access import ParticipantLink  # noqa: F401
from .participation import PromptAnswer, TaskStatus  # noqa: F401
from .revisions import CohortRevision  # noqa: F401
from .surveys import (  # noqa: F401
    AnonymousAnswerPool,
    AnonymousResponse,
    EvaluatorNote,
    IdentifiedResponse,
    Quote,
)
