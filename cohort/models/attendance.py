"""Attendance marks, the check-in code shown in the room, and a log of imported reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class Attendance(SQLModel, table=True):
    """One participant's attendance at one meeting; `source` says who recorded it."""

    __table_args__ = (
        UniqueConstraint("meeting_id", "participant_id"),
        # The dashboard's "missed two meetings" per cohort reads only the absent and excused
        # marks of a page of cohorts, from this index alone (services/dashboard.cohort_cards).
        Index("ix_attendance_cohort_missed", "cohort_id", "state", "participant_id",
              "meeting_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    state: str  # present | absent | excused
    note: str = ""
    source: str  # facilitator | check_in | import
    seconds_in_meeting: int | None = None  # from an imported report
    recorded_at: datetime = utc_field(default_factory=utcnow)
    recorded_by: str = ""  # staff login, the participant's email, or "import:<file>"


class CheckInCode(SQLModel, table=True):
    """The short code a facilitator shows in the room; one per meeting, replaceable."""

    __tablename__ = "check_in_code"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", unique=True, ondelete="CASCADE")
    code: str
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by: str = ""


class AttendanceImport(SQLModel, table=True):
    """One applied report: kept so unmatched rows stay visible after the import."""

    __tablename__ = "attendance_import"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    filename: str = ""
    layout: str = ""
    min_percent: float = 50
    rows: int = 0
    marked: int = 0
    unmatched: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    imported_at: datetime = utc_field(default_factory=utcnow)
    imported_by: str = ""
