"""Throttling of failed logins and wrong check-in codes, shared by every worker.

Five failures within a minute for one key (a client address, a participant) are allowed; the
next attempt is refused until the oldest counted failure is a minute old. The failures are
kept in the database (`services/throttling.py`), so several gunicorn workers or machines
count together. Behind a reverse proxy, enable `COHORT_TRUST_PROXY` so the client address
comes from X-Forwarded-For.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from .. import db
from ..services import throttling


class FailureLimiter:
    def __init__(self, engine: Engine, scope: str, max_failures: int = 5,
                 window_seconds: float = 60.0, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.scope = scope
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock  # seconds since the epoch: every process must agree on it

    def blocked(self, key: str) -> bool:
        """True when `key` has used up its failures in the current window."""
        return self.retry_after(key) > 0

    def retry_after(self, key: str) -> int:
        """Seconds until the oldest counted failure leaves the window (0: not blocked)."""
        now = self.clock()
        with db.transaction(self.engine) as session:
            recent = throttling.recent_failures(session, self.scope, key,
                                                _moment(now - self.window), self.max_failures)
        if len(recent) < self.max_failures:
            return 0
        return max(1, int(recent[0].timestamp() + self.window - now) + 1)

    def record_failure(self, key: str) -> None:
        now = self.clock()
        with db.transaction(self.engine) as session:
            throttling.record_failure(session, self.scope, key, _moment(now),
                                      forget_before=_moment(now - self.window))


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
