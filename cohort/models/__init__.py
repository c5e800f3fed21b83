"""SQLModel tables, one module per domain; importing this package registers them all."""

from .accounts import STAFF_ROLES, CohortRole, CohortStaff, Role, User  # noqa: F401
from .activity import ActivityEntry  # noqa: F401
from .cohorts import (  # noqa: F401
    Cohort,
    Delivery,
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
