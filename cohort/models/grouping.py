"""The facilitator's hard rules for groupings: two participants always together, or never.

Groups themselves are `Group`/`GroupMember` in models/cohorts.py (one row per group per
rotation). A rule names a pair once (smaller participant id first) for one grouping of the
cohort, or for all of them when `grouping_key` is empty.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow

RULE_KINDS = ("together", "apart")


class GroupingRule(SQLModel, table=True):
    __tablename__ = "grouping_rule"
    __table_args__ = (
        UniqueConstraint("cohort_id", "grouping_key", "first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="grouping_rule_pair_order"),
        CheckConstraint("kind IN ('together', 'apart')", name="grouping_rule_kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    grouping_key: str = ""  # empty: every grouping of the cohort
    kind: str  # together | apart
    first_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    second_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    created_at: datetime = utc_field(default_factory=utcnow)
