"""Buddy check-ins: after a buddy exchange task, did the participant meet their buddy?

One row per participant and buddy exchange task, replaced when they change their answer.
The answer is identified (the facilitator sees which pairs have not met, to repair them); the
optional line on what they talked about is shown to the facilitator only as a count unless
the participant ticks `shared`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow

CHECK_IN_ANSWERS = ("met", "not_yet", "could_not")


class BuddyCheckIn(SQLModel, table=True):
    __tablename__ = "buddy_check_in"
    __table_args__ = (
        UniqueConstraint("participant_id", "task_id"),
        CheckConstraint("answer IN ('met', 'not_yet', 'could_not')",
                        name="buddy_check_in_answer"),
    )
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    task_id: int = Field(foreign_key="task.id", index=True, ondelete="CASCADE")
    answer: str  # met | not_yet | could_not
    note: str = ""  # what they talked about (optional, one line)
    shared: bool = False  # the note may be shown to the facilitator with the participant's name
    updated_at: datetime = utc_field(default_factory=utcnow)


class FrozenBuddyRound(SQLModel, table=True):
    """A released round whose pairs are kept (`frozen_buddy_member`): its figures no longer
    follow the live groups (services/frozen_rounds.py). Goes with its task and cohort."""

    __tablename__ = "frozen_buddy_round"
    task_id: int = Field(foreign_key="task.id", primary_key=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    frozen_at: datetime = utc_field(default_factory=utcnow)


class FrozenBuddyMember(SQLModel, table=True):
    """One member of one pair (a group of a buddy grouping) of a frozen round, as the group
    was when the round was frozen. A removed participant leaves (removal takes a person out of
    every figure); an erased one stays, as the unnamed placeholder row."""

    __tablename__ = "frozen_buddy_member"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    task_id: int = Field(foreign_key="frozen_buddy_round.task_id", index=True,
                         ondelete="CASCADE")
    grouping_key: str
    rotation: int
    number: int
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
