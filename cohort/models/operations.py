"""What the running deployment keeps about itself: the scheduler's heartbeat and recent
failed attempts (throttling).

The one scheduler process writes its row on every tick (`cohort/mail/scheduler.py`); `/healthz`
reports its age, so a monitor notices when no emails are being sent because the scheduler
is not running.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from .types import utc_field


class SchedulerHeartbeat(SQLModel, table=True):
    __tablename__ = "scheduler_heartbeat"
    name: str = Field(primary_key=True, max_length=64)  # the job, e.g. "outbox"
    host: str = ""
    pid: int = 0
    started_at: datetime = utc_field()  # when this scheduler process started
    beat_at: datetime = utc_field()  # the last tick
    last_result: str = ""  # the last outbox pass's summary, or its error


class FailedAttempt(SQLModel, table=True):
    """One failed login or wrong check-in code, kept for the throttling window only.

    In the database rather than in memory so that every gunicorn worker and every machine
    counts the same failures. The key (a client address or a participant) is stored only as a
    hash: the table says that someone failed, not who.
    """

    __tablename__ = "failed_attempt"
    __table_args__ = (Index("ix_failed_attempt_lookup", "scope", "key_hash", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=32)  # login | check_in
    key_hash: str = Field(max_length=64)
    at: datetime = utc_field(index=True)
