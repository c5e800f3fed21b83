"""The cohort activity log: who changed what and when (reschedules, cancellations, people)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class ActivityEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    # Kept as text too, so the log still says who it was after an account is deleted.
    actor_id: int | None = Field(default=None, foreign_key="staff_user.id", ondelete="SET NULL")
    actor: str = ""
    action: str  # see cohort.services.activity.ACTIONS
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_field(index=True, default_factory=utcnow)
