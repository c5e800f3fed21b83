"""Creating a cohort of 5,000 participants vs. a plain Core bulk insert of the same rows.

Prints one line per figure. The baseline inserts exactly the rows `create_cohort` wrote (copied
back out of the database), with precomputed values, in one transaction on a fresh database:
the floor for getting those rows into the database at all.

    .venv/bin/python -m benchmarks.create_cohort [--participants 5000] [--url DATABASE_URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import SQLModel

from cohort import db, services
from cohort.core.programme import load_library
from cohort.demo import demo_participants

PROGRAMMES = Path(__file__).resolve().parent.parent / "programmes"


def fresh_engine(url: str | None, folder: Path, name: str):
    engine = db.make_engine(url or f"sqlite:///{folder / name}")
    SQLModel.metadata.drop_all(engine)
    db.create_schema(engine)
    return engine


def time_create(engine, participants: int) -> tuple[float, dict[str, list[dict]]]:
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2026, 4, 7))
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(participants, seed=7))]
    started = time.perf_counter()
    with db.transaction(engine) as session:
        services.create_cohort(session, new, people, now=datetime(2026, 3, 1, tzinfo=UTC))
    elapsed = time.perf_counter() - started
    rows = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows[table.name] = [dict(r._mapping) for r in conn.execute(select(table))]
    return elapsed, rows


def time_bulk_insert(engine, rows: dict[str, list[dict]]) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(insert(table), rows[table.name])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = fresh_engine(args.url, Path(folder), "cohort.sqlite3")
        cohort_seconds, rows = time_create(engine, args.participants)
        engine.dispose()
        baseline_engine = fresh_engine(args.url, Path(folder), "baseline.sqlite3")
        baseline_seconds = time_bulk_insert(baseline_engine, rows)
        baseline_engine.dispose()
    total_rows = sum(len(r) for r in rows.values())
    print(f"create cohort ({args.participants} participants, {total_rows} rows): "
          f"{cohort_seconds:.2f} s")
    print(f"baseline Core bulk insert of the same rows: {baseline_seconds:.2f} s")
    print(f"ratio: {cohort_seconds / baseline_seconds:.2f}x (target: within 3x)")


if __name__ == "__main__":
    main()
