"""The scheduler's idle tick, with a small outbox and with a region's outbox behind it.

Issue #24: "The idle scheduler tick is already cheap (2.5 ms with 315,000 deliveries in the
database): keep it so." A tick (`mail/scheduler.outbox_tick`) records a heartbeat, stores the
pooled anonymous answers of surveys that have closed, runs an outbox pass and records the
heartbeat again. When nothing is due, none of that may grow with the outbox table.

The same database is measured twice: first with one cohort (a few thousand emails), then
after it is filled to `--emails` emails (315,000: cohorts of `--participants` each, of the
shipped programmes in turn, started from twenty weeks ago to ten weeks ahead, launched, every
email due before tomorrow sent), so each tick runs where every row it could look at is not
due. Beside each part, two floors from
the same run and database: a one-row read, and a one-row write in a transaction of its own
(what each heartbeat is). Figures are medians of `--ticks` ticks.

    .venv/bin/python -m benchmarks.scheduler_tick [--emails 315000] [--participants 320]
                                                  [--ticks 200] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlmodel import SQLModel

from cohort import db, services
from cohort.app import create_app
from cohort.core.programme import load_library
from cohort.demo import demo_participants, demo_start
from cohort.mail.dispatch import send_due
from cohort.mail.scheduler import answers_tick, heartbeat, outbox_tick
from cohort.models import Cohort, Delivery

from .loadtest import REPO, free_port
from .outbox_throughput import load_average
from .postgres import throwaway_postgres

RECORDED_MS = 2.5  # the idle tick with 315,000 deliveries (2026-12-06)
# What "does not grow with the table" allows: the full outbox's tick within this many times
# the small outbox's (the medians of a shared machine swing by a few tenths).
GROWTH_TARGET = 1.5
FLOOR_TABLE = "bench_tick_floor"


def _app(url: str, folder: str):
    # A mail server nobody listens on: an idle tick must not send, and a pass that tried
    # would fail its emails, which the run checks for.
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": folder,
                       "MAIL_URL": f"smtp://127.0.0.1:{free_port()}",
                       "MAIL_FROM": "Kursus <kursus@cohort.example>"})


def add_cohorts(engine, count: int, participants: int, first: int) -> None:
    """`count` launched cohorts of the shipped programmes in turn, whose emails due before
    tomorrow are sent (numbered from `first`, so addresses stay unique)."""
    library = load_library(REPO / "programmes")
    names = sorted(library.programmes)
    now = datetime.now(UTC)
    sent_before = now + timedelta(days=1)
    for number in range(first, first + count):
        name = names[number % len(names)]
        start = demo_start(now.date()) + timedelta(weeks=number % 30 - 20)
        new = services.NewCohort(library.programmes[name], library.sources[name], start)
        people = [p.__class__(p.name, f"t{number}.{i}.{p.email}", p.organisation, p.role,
                              p.language)
                  for i, p in enumerate(demo_participants(participants, seed=number))]
        with db.transaction(engine) as session:
            cohort = services.create_cohort(session, new, people,
                                            now=min(now, datetime.combine(
                                                start - timedelta(days=14),
                                                datetime.min.time(), UTC)))
            session.execute(update(Delivery).where(
                Delivery.cohort_id == cohort.id, Delivery.state == "pending",
                Delivery.send_at < sent_before).values(state="sent",
                                                       sent_at=Delivery.send_at))
            session.execute(update(Cohort).where(Cohort.id == cohort.id)
                            .values(launched_at=now))


def _median_ms(action: Callable[[], object], times: int) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent) * 1000


def measure(app, ticks: int) -> dict[str, float]:
    engine = app.extensions["cohort.engine"]

    def read_one_row() -> None:
        with db.read_session(engine) as session:
            session.execute(text(f"SELECT n FROM {FLOOR_TABLE} WHERE id = 1")).one()

    def write_one_row() -> None:
        with db.transaction(engine) as session:
            session.execute(text(f"UPDATE {FLOOR_TABLE} SET n = n + 1 WHERE id = 1"))

    def idle_pass() -> None:
        with app.app_context():
            report = send_due(app)
        if report.sent or report.failed or report.needs_review or report.stopped:
            raise SystemExit(f"the tick was not idle: {report.summary()}")

    return {
        "one-row read (floor)": _median_ms(read_one_row, ticks),
        "one-row write transaction (floor)": _median_ms(write_one_row, ticks),
        "heartbeat": _median_ms(lambda: heartbeat(app, "idle"), ticks),
        "pooled answers of closed surveys": _median_ms(lambda: answers_tick(app), ticks),
        "outbox pass, nothing due": _median_ms(idle_pass, ticks),
        "whole tick (outbox_tick)": _median_ms(lambda: outbox_tick(app), ticks),
    }


def run(database: str, args) -> None:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        url = (stack.enter_context(throwaway_postgres()) if database == "postgresql"
               else f"sqlite:///{Path(folder) / 'tick.sqlite3'}")
        app = _app(url, folder)
        engine = app.extensions["cohort.engine"]
        SQLModel.metadata.drop_all(engine)
        db.create_schema(engine)
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE {FLOOR_TABLE} (id INTEGER PRIMARY KEY, "
                                    "n INTEGER NOT NULL)"))
            connection.execute(text(f"INSERT INTO {FLOOR_TABLE} (id, n) VALUES (1, 0)"))
        outboxes = []
        add_cohorts(engine, 1, args.participants, 0)
        outboxes.append(("small outbox", measure(app, args.ticks), _emails(engine)))
        started = time.perf_counter()
        cohorts = 1
        while _emails(engine) < args.emails:
            add_cohorts(engine, 1, args.participants, cohorts)
            cohorts += 1
        if engine.dialect.name == "postgresql":  # what autovacuum does soon after
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        filled = time.perf_counter() - started
        outboxes.append(("full outbox", measure(app, args.ticks), _emails(engine)))
        engine.dispose()
    print(f"Scheduler tick on {database} (medians of {args.ticks}; filled in {filled:.0f} s; "
          f"load {load_average()})")
    (small_name, small, small_emails), (full_name, full, full_emails) = outboxes
    print(f"  {'':36} {small_name + f' ({small_emails:,} emails)':>26} "
          f"{full_name + f' ({full_emails:,} emails)':>28}")
    for part in small:
        print(f"  {part:36} {small[part]:22.2f} ms {full[part]:24.2f} ms")
    growth = full["whole tick (outbox_tick)"] / small["whole tick (outbox_tick)"]
    idle = full["outbox pass, nothing due"]
    print(f"  the full outbox's tick / the small one's: {growth:.2f}x (target: within "
          f"{GROWTH_TARGET}x: {'meets' if growth <= GROWTH_TARGET else 'MISSES'}); its idle "
          f"pass {idle:.2f} ms beside the issue's {RECORDED_MS} ms on 2026-12-06 "
          f"({idle / full['one-row read (floor)']:.1f} one-row reads)", flush=True)


def _emails(engine) -> int:
    with db.read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(Delivery))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=315_000,
                        help="fill the outbox to this many emails (a cohort at a time)")
    parser.add_argument("--participants", type=int, default=320)
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    for database in args.databases.split(","):
        run(database, args)


if __name__ == "__main__":
    main()
