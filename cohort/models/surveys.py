"""Survey responses and the evaluators' notes and quotes.

Anonymity is a property of the schema, not of good intentions: an anonymous response row has
a random id, the survey it belongs to, the day (not the time) it was given, its answers and at
most one generalised breakdown value. It has no column or key that points at a participant or
an invitation, and on SQLite it is stored WITHOUT ROWID so not even the physical row order
follows the order of submission. The invitation only records that it was completed (see
`Invitation.completed` in models/cohorts.py), never when.

Identified responses (pre/post self-assessments, declared in the template and shown to the
participant) are a separate table linked to the participant.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow

SOURCES = ("web", "paper", "demo")


class AnonymousResponse(SQLModel, table=True):
    __tablename__ = "anonymous_response"
    __table_args__ = {"sqlite_with_rowid": False}
    id: str = Field(primary_key=True, max_length=32)  # uuid4().hex: random, not a sequence
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    submitted_on: date  # the day only: an exact time could be matched with the invitation
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    breakdown_value: str = ""  # organisation or role, generalised (see core.anonymity)
    source: str = "web"  # web | paper | demo


class IdentifiedResponse(SQLModel, table=True):
    __tablename__ = "identified_response"
    __table_args__ = (UniqueConstraint("survey_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    submitted_at: datetime = utc_field(default_factory=utcnow)
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    source: str = "web"


class EvaluatorNote(SQLModel, table=True):
    """An evaluator's notes on a meeting (observation) or an interview, by guide heading."""

    __tablename__ = "evaluator_note"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    kind: str  # observation | interview
    guide_key: str
    meeting_key: str | None = None
    title: str = ""
    held_on: date | None = None
    organisation: str = ""
    group_label: str = ""
    # [{"heading": "...", "text": "..."}] in the guide's order
    entries: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    author: str = ""
    is_demo: bool = False
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class Quote(SQLModel, table=True):
    """A coded quote, attributed only as organisation and group ("Lier, gruppe 3")."""

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    note_id: int | None = Field(
        default=None, foreign_key="evaluator_note.id", index=True, ondelete="CASCADE"
    )
    text: str
    organisation: str = ""
    group_label: str = ""
    themes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_demo: bool = False
    created_at: datetime = utc_field(default_factory=utcnow)

    @property
    def attribution(self) -> str:
        return ", ".join(part for part in (self.organisation, self.group_label) if part)
