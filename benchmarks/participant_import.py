"""Importing 2,000 participants into a cohort (the web form's limit) vs. a plain bulk insert.

An import writes each person with their invitations and every email of the plan (about a
hundred rows each), all or nothing, in one transaction. On SQLite that transaction holds the
database's one write lock from its first write to its commit, and every other writer (a
facilitator's click, the outbox) waits that long. So besides the import's own time this prints
how long it held the write lock (first INSERT/UPDATE/DELETE to COMMIT), beside the baseline:
a Core bulk insert of every row in the database after the import (copied back out of it:
the import's and the cohort's first 20 participants' and plan),
with precomputed values, in one transaction on a fresh database.

    .venv/bin/python -m benchmarks.participant_import [--participants 2000] [--url DATABASE_URL]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlmodel import SQLModel

from benchmarks.create_cohort import PROGRAMMES, fresh_engine, time_bulk_insert
from cohort import db, services
from cohort.core.programme import load_library
from cohort.demo import demo_participants

NOW = datetime(2026, 3, 1, tzinfo=UTC)
WRITES = ("INSERT", "UPDATE", "DELETE")


class LockWatch:
    """When the connection first wrote, and when it committed (SQLite's write-lock window)."""

    def __init__(self, engine) -> None:
        self.first_write: float | None = None
        self.commit: float | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.first_write is None and statement.lstrip().upper().startswith(WRITES):
            self.first_write = time.perf_counter()

    def _commit(self, conn) -> None:
        self.commit = time.perf_counter()

    @property
    def held(self) -> float:
        return (self.commit or 0) - (self.first_write or 0)


def participants_csv(count: int) -> bytes:
    people = demo_participants(count, seed=8)
    return ("name;email;organisation;role\n" + "".join(
        f"{p.name};{i}.{p.email};{p.organisation};{p.role}\n"
        for i, p in enumerate(people))).encode()


def time_import(engine, participants: int) -> tuple[float, float, dict[str, list[dict]]]:
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2026, 4, 7))
    with db.transaction(engine) as session:
        cohort_id = services.create_cohort(session, new, demo_participants(20, seed=7),
                                           now=NOW).id
    data = participants_csv(participants)
    watch = LockWatch(engine)
    started = time.perf_counter()
    with db.transaction(engine) as session:
        services.participants.import_csv(session, cohort_id, data, None, NOW)
    elapsed = time.perf_counter() - started
    rows = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows[table.name] = [dict(r._mapping) for r in conn.execute(select(table))]
    return elapsed, watch.held, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = fresh_engine(args.url, Path(folder), "cohort.sqlite3")
        seconds, held, rows = time_import(engine, args.participants)
        engine.dispose()
        baseline_engine = fresh_engine(args.url, Path(folder), "baseline.sqlite3")
        baseline = time_bulk_insert(baseline_engine, rows)
        baseline_engine.dispose()
    total_rows = sum(len(r) for r in rows.values())
    print(f"import of {args.participants} participants (cohort now {total_rows} rows): "
          f"{seconds:.2f} s, of which the write lock was held {held:.2f} s")
    print(f"baseline Core bulk insert of all {total_rows} rows: {baseline:.2f} s")
    print(f"ratio lock held / baseline: {held / baseline:.2f}x")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
