"""SQLModel tables, one module per domain; importing this package registers them all."""

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
from .outbox import CohortMailSettings, Delivery  # noqa: F401
from .participant_access import ParticipantLink  # noqa: F401
from .participation import PromptAnswer, TaskStatus  # noqa: F401
