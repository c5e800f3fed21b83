"""Failed-login throttling, in process, keyed by the client's address.

Five failed logins within a minute from one address are allowed; the next attempt gets 429
until the oldest failure is a minute old. Counting happens in this process only (each gunicorn
worker keeps its own count, so N workers allow up to N x 5 failures a minute); that is the
documented trade-off for not needing Redis or a table. Behind a reverse proxy, enable
`COHORT_TRUST_PROXY` so the client address comes from X-Forwarded-For.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(self, max_failures: int = 5, window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        """True when `key` has used up its failures in the current window."""
        with self._lock:
            return len(self._recent(key)) >= self.max_failures

    def retry_after(self, key: str) -> int:
        """Seconds until the oldest counted failure leaves the window."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.max_failures:
                return 0
            return max(1, int(recent[0] + self.window - self.clock()) + 1)

    def record_failure(self, key: str) -> None:
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._prune()
            self._recent(key).append(self.clock())

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def _prune(self) -> None:
        """Forget addresses with no failure in the window (bounded memory under attack)."""
        cutoff = self.clock() - self.window
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= cutoff]:
            del self._failures[key]
