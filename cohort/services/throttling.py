"""Attempts counted per key in the database, atomically, shared by every process.

One row per (scope, key) holds the start of its current window and how many attempts it
counted there. `count_attempt` is a single INSERT ... ON CONFLICT DO UPDATE ... RETURNING:
the database serialises concurrent attempts on one key (a row lock on PostgreSQL, the write
lock on SQLite), so each caller sees its own place in the count and forty simultaneous
guesses cannot all be checked against a limit of five. The rule (how many in how long, what
happens to an attempt that turned out fine) belongs to the caller (`web/ratelimit.py`).
Keys are hashed before they are stored.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import case, delete, update
from sqlmodel import Session

from .. import db
from ..models import AttemptCount

_TABLE = AttemptCount.__table__


def key_hash(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()


def count_attempt(session: Session, scope: str, key: str, now: float,
                  window: float) -> tuple[int, float]:
    """Count one attempt for `key`; returns (attempts in its window, this one included, and
    when that window started). A window older than `window` seconds starts again at `now`.
    Run it in a transaction of its own: the row stays locked until that commits."""
    stale = _TABLE.c.window_start <= now - window
    statement = db.upsert(session)(_TABLE).values(
        scope=scope, key_hash=key_hash(scope, key), window_start=now, count=1,
    ).on_conflict_do_update(
        index_elements=["scope", "key_hash"],
        set_={"count": case((stale, 1), else_=_TABLE.c.count + 1),
              "window_start": case((stale, now), else_=_TABLE.c.window_start)},
    ).returning(_TABLE.c.count, _TABLE.c.window_start)
    count, started = session.execute(statement).one()
    return count, started


def forget_old_attempts(session: Session, scope: str, now: float, window: float) -> None:
    """Drop the rows of keys whose window is over, so the table stays as small as the window
    (in a transaction of its own: it may wait for, or race with, another process's)."""
    session.execute(delete(_TABLE).where(_TABLE.c.scope == scope,
                                         _TABLE.c.window_start <= now - window))


def uncount_attempt(session: Session, scope: str, key: str, window_start: float) -> None:
    """Take back one attempt counted in the window that started at `window_start` (it was
    not a failure); nothing when that window has been replaced meanwhile."""
    session.execute(update(_TABLE).where(
        _TABLE.c.scope == scope, _TABLE.c.key_hash == key_hash(scope, key),
        _TABLE.c.window_start == window_start, _TABLE.c.count > 0,
    ).values(count=_TABLE.c.count - 1))
