"""What the running deployment says about itself: the scheduler's heartbeat.

The one scheduler process writes its row on every tick (`cohort/scheduler.py`); `/healthz`
reports its age, so a monitor notices when no emails are being sent because the scheduler
is not running.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .cohorts import _utc


class SchedulerHeartbeat(SQLModel, table=True):
    __tablename__ = "scheduler_heartbeat"
    name: str = Field(primary_key=True, max_length=64)  # the job, e.g. "outbox"
    host: str = ""
    pid: int = 0
    started_at: datetime = _utc()  # when this scheduler process started
    beat_at: datetime = _utc()  # the last tick
    last_result: str = ""  # the last outbox pass's summary, or its error
