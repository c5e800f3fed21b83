"""SQLModel tables, one module per domain; importing this package registers them all."""

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
from .grouping import RULE_KINDS, GroupingRule  # noqa: F401
