"""What the running deployment keeps about itself: the scheduler's heartbeat and recent
attempt counts (throttling).

The one scheduler process writes its row on every tick (`cohort/mail/scheduler.py`); `/healthz`
reports its age, so a monitor notices when no emails are being sent because the scheduler
is not running.
"""

from __future__ import annotations

from datetime import datetime

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


class AttemptCount(SQLModel, table=True):
    """How many attempts one key (an account, a client address, a participant) used in its
    current throttling window: one row per key, counted by a single atomic upsert
    (`services/throttling.py`), so concurrent requests can never all slip under the limit.

    In the database rather than in memory so that every gunicorn worker and every machine
    counts the same attempts. The key is stored only as a hash: the table says that someone
    failed, not who.
    """

    __tablename__ = "attempt_count"
    scope: str = Field(primary_key=True, max_length=32)  # login | check_in
    key_hash: str = Field(primary_key=True, max_length=64)
    window_start: float = Field(index=True)  # seconds since the epoch
    count: int = 0
