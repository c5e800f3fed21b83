"""Failed attempts shared by every process: recorded, counted within a window, forgotten.

The rule (how many failures in how long) belongs to the caller (`web/ratelimit.py`); this
module only keeps the timestamps. Keys are hashed before they are stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from ..models import FailedAttempt


def key_hash(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()


def recent_failures(session: Session, scope: str, key: str, since: datetime,
                    limit: int) -> list[datetime]:
    """Up to `limit` failures after `since`, oldest first."""
    return list(session.scalars(select(FailedAttempt.at).where(
        FailedAttempt.scope == scope, FailedAttempt.key_hash == key_hash(scope, key),
        FailedAttempt.at > since,
    ).order_by(FailedAttempt.at.desc()).limit(limit)))[::-1]


def record_failure(session: Session, scope: str, key: str, at: datetime,
                   forget_before: datetime) -> None:
    """Record one failure and drop every failure (of any key) too old to count any more, so
    the table stays as small as the window."""
    session.execute(delete(FailedAttempt).where(FailedAttempt.at <= forget_before))
    session.execute(insert(FailedAttempt).values(scope=scope, key_hash=key_hash(scope, key),
                                                 at=at))
