"""Creating a cohort of 5,000 participants vs. a plain Core bulk insert of the same rows, and
the peak memory of creating it.

Prints one line per figure. The peak resident memory is measured in a process of its own that
only creates the cohort (target, issue #24: under 300 MB for 5,000 participants, 500 MB for
20,000), beside that process's memory just before it starts.
The baseline inserts exactly the rows `create_cohort` wrote (copied back out of the
database), with precomputed values, in one transaction on a fresh database: the floor for
getting those rows into the database at all.

    .venv/bin/python -m benchmarks.create_cohort [--participants 5000] [--url DATABASE_URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import SQLModel

from cohort import db, services
from cohort.core.programme import load_library
from cohort.demo import demo_participants

RECORDED_RATIO, TARGET_RATIO = 1.08, 1.3  # of the Core bulk insert; the target keeps it there
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
    """The same rows, but the cohort's revision: the database's trigger makes that one on the
    cohort's insert (and moves it on every other insert, as it does for create_cohort)."""
    started = time.perf_counter()
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if rows[table.name] and table.name != "cohort_revision":
                conn.execute(insert(table), rows[table.name])
    return time.perf_counter() - started


def _peak_worker(url: str | None, folder: str, participants: int, out) -> None:
    engine = fresh_engine(url, Path(folder), "peak.sqlite3")
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2026, 4, 7))
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(participants, seed=7))]
    before = _rss_mib()
    with db.transaction(engine) as session:
        services.create_cohort(session, new, people, now=datetime(2026, 3, 1, tzinfo=UTC))
    out.send((before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    # No drop_all: the folder goes with the run. Dropping 2 million rows' tables with foreign
    # keys on makes SQLite check every row, which took longer than creating them.
    engine.dispose()


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_memory(url: str | None, folder: str, participants: int) -> tuple[float, float]:
    """(MiB resident before creating, peak MiB) of a fresh process that creates the cohort."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_peak_worker, args=(url, folder, participants, send))
    process.start()
    figures = receive.recv()
    process.join()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--memory-only", action="store_true", help="only the peak memory")
    args = parser.parse_args()
    target = 300 if args.participants <= 5000 else 500
    with tempfile.TemporaryDirectory() as folder:
        before, peak = peak_memory(args.url, folder, args.participants)
    print(f"create cohort ({args.participants} participants): peak {peak:.0f} MiB resident, "
          f"{before:.0f} MiB before creating (target: peak under {target} MB: "
          f"{'meets' if peak * 1.048576 < target else 'MISSES'})", flush=True)
    if args.memory_only:
        return
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
    ratio = cohort_seconds / baseline_seconds
    print(f"ratio: {ratio:.2f}x (recorded {RECORDED_RATIO}x on 2026-12-06; target: within "
          f"{TARGET_RATIO}x: {'meets' if ratio <= TARGET_RATIO else 'MISSES'})")


if __name__ == "__main__":
    main()
