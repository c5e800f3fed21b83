"""Is the deployment working? The database answers, the schema is current, and the one
scheduler process is alive (it records a heartbeat on every tick).

`/healthz` reports this for load balancers and monitors; it must answer even when the database
does not, so every check catches its own errors.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from ..models import SchedulerHeartbeat

SCHEDULER = "scheduler"


def record_heartbeat(session: Session, started_at: datetime, now: datetime,
                     result: str | None = None) -> SchedulerHeartbeat:
    """The scheduler's "still here" (one row, updated in place)."""
    beat = session.get(SchedulerHeartbeat, SCHEDULER) or SchedulerHeartbeat(name=SCHEDULER)
    beat.host, beat.pid = socket.gethostname(), os.getpid()
    beat.started_at, beat.beat_at = started_at, now
    if result is not None:
        beat.last_result = result[:500]
    session.add(beat)
    return beat


@dataclass(frozen=True)
class Health:
    database_error: str | None
    schema_revision: str | None
    schema_head: str
    heartbeat_age: float | None  # seconds since the scheduler's last tick; None: never
    max_heartbeat_age: float

    @property
    def scheduler_ok(self) -> bool:
        return self.heartbeat_age is not None and self.heartbeat_age <= self.max_heartbeat_age

    @property
    def healthy(self) -> bool:
        return (self.database_error is None and self.schema_revision == self.schema_head
                and self.scheduler_ok)

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "database": {"ok": self.database_error is None, "error": self.database_error},
            "schema": {"ok": self.schema_revision == self.schema_head,
                       "revision": self.schema_revision, "head": self.schema_head},
            "scheduler": {"ok": self.scheduler_ok,
                          "heartbeat_age_seconds": None if self.heartbeat_age is None
                          else round(self.heartbeat_age, 1),
                          "max_age_seconds": self.max_heartbeat_age},
        }


def check_health(engine: Engine, now: datetime, max_heartbeat_age: float) -> Health:
    from ..db import migrate as schema

    head = schema.head_revision()
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            beat = session.get(SchedulerHeartbeat, SCHEDULER)
        revision = schema.current_revision(engine)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        return Health(f"{type(reason).__name__}: {str(reason).strip()[:200]}", None, head, None,
                      max_heartbeat_age)
    age = (now - beat.beat_at).total_seconds() if beat is not None else None
    return Health(None, revision, head, age, max_heartbeat_age)
