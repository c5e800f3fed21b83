"""What participants do on their page: tasks marked done (with a note) and prompt answers.

These rows feed the facilitator digest; one row per participant and task or prompt, updated in
place when the participant changes their mind.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class TaskStatus(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("participant_id", "task_id"),)
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    task_id: int = Field(foreign_key="task.id", index=True, ondelete="CASCADE")
    done_at: datetime | None = utc_field(nullable=True)
    note: str = ""
    updated_at: datetime = utc_field(default_factory=utcnow)


class PromptAnswer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("participant_id", "prompt_id"),)
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    prompt_id: int = Field(foreign_key="prompt.id", index=True, ondelete="CASCADE")
    answer: str
    updated_at: datetime = utc_field(default_factory=utcnow)
