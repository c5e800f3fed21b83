"""Cohorts and their plan: meetings, participants, tasks, prompts, groups, surveys.

Times are stored in UTC (see models/types.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..core.calendars import new_uid
from .types import utc_field, utcnow, web_link_field


class Cohort(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    programme_id: str = Field(index=True)
    programme: dict = Field(sa_column=Column(JSON, nullable=False))  # snapshot of the template
    start_date: date
    timezone: str
    language: str
    created_at: datetime = utc_field(default_factory=utcnow)
    # None while the cohort is a draft: nothing is sent until the facilitator launches it
    # (services/launching.py); the outbox claims only rows of launched cohorts.
    launched_at: datetime | None = utc_field(nullable=True)
    # Set when the retention purge erased the participants' personal data (services/privacy.py).
    personal_data_purged_at: datetime | None = utc_field(nullable=True)

    @property
    def state(self) -> str:
        """draft or launched (see `launched_at`)."""
        return "launched" if self.launched_at is not None else "draft"


class Meeting(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("cohort_id", "key"),
        # The landing pages judge each cohort's phase from its scheduled meetings' times
        # (services/cohort_list.timeline): read from this index alone, not the meeting rows.
        Index("ix_meeting_cohort_timeline", "cohort_id", "status", "starts_at", "ends_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    key: str
    kind: str
    title: str
    format: str
    position: int
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()
    location: str | None = None
    online_url: str | None = web_link_field()
    status: str = "scheduled"  # scheduled | cancelled
    sequence: int = 0  # iCalendar SEQUENCE: goes up with every change of time, place or status
    uid: str = Field(default_factory=new_uid, unique=True, max_length=64)  # iCalendar UID
    updated_at: datetime = utc_field(default_factory=utcnow)  # iCalendar LAST-MODIFIED
    # The facilitator's overrides, kept apart from the plan so re-planning can respect them.
    override_starts_at: datetime | None = utc_field(nullable=True)
    override_location: str | None = None
    override_online_url: str | None = web_link_field()

    def revise(self, now: datetime) -> None:
        """Record a change of time, place or status, so calendars update the event."""
        self.sequence += 1
        self.updated_at = now


class Participant(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    name: str
    email: str
    organisation: str = ""
    role: str = ""
    language: str = "da"
    created_at: datetime = utc_field(default_factory=utcnow)
    # Set when the person's data was erased: the row stays as an unnamed placeholder so that
    # counts, attendance and survey results do not change (see services/privacy.py).
    erased_at: datetime | None = utc_field(nullable=True)
    # Part of the personal-link session: logging out bumps it, so a copied cookie stops
    # working (web/access.py checks it on every request).
    session_version: int = 1
    # When the participant first continued from their personal link: the progress grid's
    # "link opened" column (web/participant.py `exchange`). Only the first time is kept.
    link_opened_at: datetime | None = utc_field(nullable=True)


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    key: str
    template_key: str
    kind: str
    title: str
    description: str = ""
    meeting_key: str
    due_meeting_key: str | None = None
    release_at: datetime = utc_field()
    due_at: datetime | None = utc_field(nullable=True)
    reminder_at: datetime | None = utc_field(nullable=True)


class Prompt(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    key: str
    template_key: str
    meeting_key: str
    question: str
    send_at: datetime = utc_field()


class Group(SQLModel, table=True):
    __tablename__ = "cohort_group"  # "group" is an SQL keyword
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    grouping_key: str
    rotation: int = 1
    number: int
    explanation: str = ""


class GroupMember(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("group_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="cohort_group.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")


class Survey(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    key: str
    template_key: str
    title: str
    mode: str
    meeting_key: str
    opens_at: datetime = utc_field()
    closes_at: datetime = utc_field()


class Invitation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("survey_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    completed: bool = False

