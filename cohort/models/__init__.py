"""SQLModel tables, one module per domain; importing this package registers them all."""

from .calendars import CalendarFeed  # noqa: F401
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
