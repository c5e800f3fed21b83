"""Throttling counts attempts in the database, atomically, per account and per address: two
apps (two gunicorn workers, two machines) on one database count together, forty simultaneous
guesses are never all checked, and a NAT neighbour of a guesser still gets in."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlmodel import Session

from cohort.models import AttemptCount
from cohort.web.ratelimit import Throttle


def _throttles(engine, clock, count=2, limit=3):
    return [Throttle(engine, "login", max_failures=limit, window_seconds=60,
                     clock=lambda: clock[0]) for _ in range(count)]


def test_workers_share_the_count_and_the_table_forgets(engine):
    clock = [1_000_000.0]
    first, second = _throttles(engine, clock)
    for throttle in (first, second, first):  # three failures (never given back)
        assert not throttle.begin("anna@x.example", "10.0.0.1").refused
    clock[0] += 10
    refused = second.begin("anna@x.example", "10.0.0.1")
    assert refused.refused and refused.retry_after == 50  # the window started at +0 s
    assert not second.begin("carl@x.example").refused  # a key nobody uses again
    # Another scope with the same key counts on its own.
    other = Throttle(engine, "check_in", 3, clock=lambda: clock[0])
    assert not other.begin("anna@x.example").refused
    clock[0] += 65
    # A new window; it tidies up what no longer counts (carl's row goes).
    assert not first.begin("anna@x.example", "10.0.0.1").refused
    first.begin("bo@x.example", "10.0.0.9")
    with Session(engine) as session:
        stored = set(session.scalars(select(AttemptCount.key_hash)))
        assert session.scalar(select(func.count()).select_from(AttemptCount)) == 5
    assert not any("10.0.0" in value or "@" in value for value in stored)  # hashed keys only


def test_a_right_attempt_is_given_back(engine):
    clock = [1_000_000.0]
    (throttle,) = _throttles(engine, clock, count=1)
    for _ in range(10):
        attempt = throttle.begin("anna@x.example", "10.0.0.1")
        assert not attempt.refused
        throttle.succeeded(attempt)
    for _ in range(3):
        assert not throttle.begin("anna@x.example", "10.0.0.1").refused
    assert throttle.begin("anna@x.example", "10.0.0.1").refused


def test_concurrent_guesses_are_counted_atomically(engine):
    """Forty threads guess at once (real threads, real database, released together by a
    barrier): exactly the limit is checked, whatever the interleaving."""
    clock = [1_000_000.0]
    throttle = Throttle(engine, "login", max_failures=5, window_seconds=60,
                        clock=lambda: clock[0])
    start = threading.Barrier(40)

    def guess(number: int) -> bool:
        start.wait()
        return not throttle.begin("anna@x.example", f"10.0.{number}.1").refused

    with ThreadPoolExecutor(40) as pool:
        checked = sum(pool.map(guess, range(40)))
    assert checked == 5
    # Forty at once from one address: twenty at anna, now under attack, and one each at
    # twenty untouched accounts.
    start = threading.Barrier(40)

    def spray(number: int) -> bool:
        start.wait()
        return not throttle.begin("anna@x.example" if number % 2 else f"p{number}@x.example",
                                  "10.9.9.9").refused

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(spray, range(40)))
    # None of anna's gets through; each untouched account gets its one try (see
    # web/ratelimit.py), whatever the address's count.
    assert sum(results[1::2]) == 0 and sum(results[0::2]) == 20


def test_a_throttled_address_still_lets_an_untouched_account_in(engine):
    clock = [1_000_000.0]
    (throttle,) = _throttles(engine, clock, count=1)
    for number in range(3):  # the guesser behind the NAT uses up the address
        assert not throttle.begin(f"victim{number}@x.example", "192.0.2.1").refused
    assert throttle.begin("victim9@x.example", "192.0.2.1").refused is False  # first try
    assert throttle.begin("victim9@x.example", "192.0.2.1").refused  # ... and only one
    # A colleague behind the same address: one try, and the right password is given back.
    colleague = throttle.begin("colleague@x.example", "192.0.2.1")
    assert not colleague.refused
    throttle.succeeded(colleague)
    assert not throttle.begin("colleague@x.example", "192.0.2.1").refused
