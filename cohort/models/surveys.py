"""Survey responses and the evaluators' notes and quotes.

Anonymity is a property of the schema, not of good intentions: an anonymous response row has
a random id, the survey it belongs to, a day that is not the day of answering (the survey's
first day for answers given on the web), its answers and at most one generalised breakdown
value. It has no column or key that points at a participant or an invitation. The invitation
only records that it was completed (see `Invitation.completed` in models/cohorts.py), never
when.

A web answer is not written to `anonymous_response` when it is given. It waits in
`anonymous_answer_pool` (no identity, no time, a random key), written in a transaction of its
own after the one that marks the invitation completed. `services.surveys.move_pooled_answers`
rewrites a survey's answers (the stored ones and the waiting ones, shuffled, with new random
ids) in one transaction once at least k are waiting or the survey has closed. So no
transaction id, physical position, id or date ties an answer to an invitation (see "What a
database administrator can and cannot learn" in docs/architecture.md). Both tables are
WITHOUT ROWID on SQLite: their physical order is that of their random keys.

Identified responses (pre/post self-assessments, declared in the template and shown to the
participant) are a separate table linked to the participant. Each keeps the participant's
organisation and role as they were when the answer was given, as an anonymous answer keeps its
breakdown value: the survey's figures per organisation or role are made of these, so moving
someone to another organisation, or erasing them, later changes no published group by exactly
their answer.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow

SOURCES = ("web", "paper", "demo")


class AnonymousResponse(SQLModel, table=True):
    __tablename__ = "anonymous_response"
    __table_args__ = {"sqlite_with_rowid": False}
    id: str = Field(primary_key=True, max_length=32)  # uuid4().hex: random, not a sequence
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    # A day, never a time. Web answers: the survey's first day (the day of answering would say
    # which answers came in on a day with few completions). Paper answers: the day on paper.
    submitted_on: date
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    breakdown_value: str = ""  # organisation or role, generalised (see core.anonymity)
    source: str = "web"  # web | paper | demo


class AnonymousAnswerPool(SQLModel, table=True):
    """An anonymous answer waiting to be moved into `anonymous_response`: no time, no id that
    follows the order of answering, nothing about the person."""

    __tablename__ = "anonymous_answer_pool"
    __table_args__ = {"sqlite_with_rowid": False}
    key: str = Field(primary_key=True, max_length=32)  # secrets.token_hex(16), new every rewrite
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    breakdown_value: str = ""
    source: str = "web"


class IdentifiedResponse(SQLModel, table=True):
    __tablename__ = "identified_response"
    __table_args__ = (UniqueConstraint("survey_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    submitted_at: datetime = utc_field(default_factory=utcnow)
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    source: str = "web"
    # The participant's, when they answered (the breakdowns read these, not the participant).
    organisation: str = Field(sa_column=Column(String, nullable=False, server_default=""))
    role: str = Field(sa_column=Column(String, nullable=False, server_default=""))


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
    """A coded quote, attributed only as organisation and group ("Lier, gruppe 3"), the
    organisation alone, or not at all; published no narrower than the minimum group size
    allows (`core.attribution`)."""

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
