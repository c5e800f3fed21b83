"""Throttling of password checks and check-in codes, counted per account and per address.

Every attempt is counted *before* it is checked, by one atomic statement in the database
(`services/throttling.py`), so concurrent requests each see their own place in the count and
no more than the limit are ever checked; an attempt that turns out right is given back
(`Throttle.succeeded`). What stays counted is failures (and attempts still being checked).

The rule, with N = `max_failures` within `window_seconds` (5 a minute by default):
- an **account** (the email typed, whether or not it has an account, so the answer does not
  tell) with N failures is refused, from every address: it is under attack;
- an **address** with N failures is refused too, except for an account without a failure of
  its own in the window: someone behind the same NAT as a guesser still gets in with the
  right password. That exception gives a guesser at most one try per untouched account and
  window, which the account's own count then remembers.

The counts are in the database, so several gunicorn workers or machines count together.
Behind a reverse proxy, enable `COHORT_TRUST_PROXY` so the client address comes from
X-Forwarded-For.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .. import db
from ..services import throttling

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: the keys it was counted under (with their window's start), and
    how long the caller must wait instead of checking (0: check it)."""

    counted: tuple[tuple[str, float], ...]
    retry_after: int = 0

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


class Throttle:
    def __init__(self, engine: Engine, scope: str, max_failures: int = 5,
                 window_seconds: float = 60.0, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.scope = scope
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock  # seconds since the epoch: every process must agree on it

    def begin(self, account: str, address: str | None = None) -> Attempt:
        """Count an attempt on `account` (from `address`) and decide whether it may be
        checked. A refused attempt is not counted: it checked nothing."""
        now = self.clock()
        keys = [f"account:{account}"] + ([f"address:{address}"] if address is not None else [])
        with db.transaction(self.engine) as session:
            # Accounts before addresses in every transaction: no lock cycle on PostgreSQL.
            counts = [throttling.count_attempt(session, self.scope, key, now, self.window)
                      for key in keys]
        (account_count, account_start), *address_part = counts
        retry_after = 0
        if account_count > self.max_failures:
            retry_after = self._wait(account_start, now)
        elif address_part and address_part[0][0] > self.max_failures and account_count > 1:
            retry_after = self._wait(address_part[0][1], now)
        attempt = Attempt(tuple((key, start) for key, (_, start) in zip(keys, counts,
                                                                         strict=True)),
                          retry_after)
        if attempt.refused:
            self.succeeded(attempt)
        if any(count == 1 for count, _ in counts):  # a new window: time to tidy up
            self._forget_old(now)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt was right (or never checked): it does not count as a failure."""
        with db.transaction(self.engine) as session:
            for key, window_start in attempt.counted:
                throttling.uncount_attempt(session, self.scope, key, window_start)

    def _wait(self, window_start: float, now: float) -> int:
        return max(1, math.ceil(window_start + self.window - now))

    def _forget_old(self, now: float) -> None:
        try:
            with db.transaction(self.engine) as session:
                throttling.forget_old_attempts(session, self.scope, now, self.window)
        except DBAPIError:  # another process tidying at the same moment: it will do
            log.info("throttle clean-up skipped", exc_info=True)
