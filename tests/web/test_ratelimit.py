"""Throttling counts failures in the database: two apps (two gunicorn workers, two machines)
on one database see each other's failures, and old failures are forgotten."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from cohort.models import FailedAttempt
from cohort.web.ratelimit import FailureLimiter


def test_workers_share_the_count_and_the_table_forgets(engine):
    clock = [1_000_000.0]
    first, second = (FailureLimiter(engine, "login", max_failures=3, window_seconds=60,
                                    clock=lambda: clock[0]) for _ in range(2))
    first.record_failure("10.0.0.1")
    second.record_failure("10.0.0.1")
    assert not first.blocked("10.0.0.1")
    clock[0] += 10
    first.record_failure("10.0.0.1")
    assert second.blocked("10.0.0.1") and first.blocked("10.0.0.1")
    assert second.retry_after("10.0.0.1") == 51  # the oldest failure leaves at +60 s
    assert not second.blocked("10.0.0.2")
    # Another scope with the same key counts on its own.
    assert not FailureLimiter(engine, "check_in", 3, clock=lambda: clock[0]).blocked("10.0.0.1")
    clock[0] += 55
    assert not first.blocked("10.0.0.1")  # two of the three have left the window
    second.record_failure("10.0.0.9")  # recording forgets what no longer counts
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(FailedAttempt)) == 2
        stored = set(session.scalars(select(FailedAttempt.key_hash)))
    assert not any("10.0.0" in value for value in stored)  # addresses are not kept
