"""Which statements of the regional pages go wrong with a generic plan on PostgreSQL.

psycopg prepares a statement on the server once a connection has run it five times, and
PostgreSQL may then plan it once for any parameter values (a generic plan) when that looks no
dearer than planning each call. Blind to a bound value, the planner guesses from statistics,
and a fixed value sent as a parameter (a state, a status) can turn an index read into reading
every row of a cohort (see `db.constant`). A page benchmark sees that only as a page a little
slower on PostgreSQL than on SQLite; here each statement is timed on its own.

The installation of `benchmarks.regional` on a throwaway PostgreSQL; every GET page of it
viewed twice with the page cache off (the second view's SELECTs are the page's statements).
Each distinct statement is then run prepared, with the parameters the page sent, under
`plan_cache_mode = force_custom_plan` and `force_generic_plan` in turn: the best of `--runs`
executions of each, twice over, so the machine's load does not decide. A statement whose
generic plan takes over twice its custom plan's time (and 0.3 ms more) is marked.

    .venv/bin/python -m benchmarks.postgres_plans [--cohorts 100] [--runs 30]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import event

from cohort.app import create_app

from .postgres import throwaway_postgres
from .regional import SECRET, prepare

MODES = ("force_custom_plan", "force_generic_plan")


def page_statements(app, requests: dict) -> dict[str, list[tuple[str, object]]]:
    """The SELECTs each GET page runs on its second view (page cache off)."""
    engine = app.extensions["cohort.engine"]
    app.extensions["cohort.page_cache"].entries = 0
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    pages = {}
    event.listen(engine, "before_cursor_execute", record)
    try:
        for name, listed in requests.items():
            if any(method != "GET" for method, *_ in listed):
                continue
            client = app.test_client(use_cookies=False)
            for method, path, cookie, _body in listed[:2]:
                seen.clear()
                response = client.open(path, method=method, headers={"Cookie": cookie})
                assert response.status_code == 200, (name, path, response.status_code)
            pages[name] = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return pages


def best_ms(cursor, statement: str, parameters, mode: str, runs: int) -> float:
    cursor.execute(f"SET plan_cache_mode = {mode}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        cursor.execute(statement, parameters, prepare=True)
        cursor.fetchall()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=100)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with throwaway_postgres() as url, tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": folder})
        region = prepare(app, args.cohorts, args.large)
        pages = page_statements(app, region.requests)
        raw = app.extensions["cohort.engine"].raw_connection()
        try:
            connection = raw.driver_connection
            connection.autocommit = True
            done: set[str] = set()
            marked = 0
            with connection.cursor() as cursor:
                for name, statements in pages.items():
                    print(f"{name}: {len(statements)} SELECTs", flush=True)
                    for statement, parameters in statements:
                        if statement in done:
                            continue
                        done.add(statement)
                        custom, generic = (min(best_ms(cursor, statement, parameters, mode,
                                                       args.runs) for _ in range(2))
                                           for mode in MODES)
                        bad = generic > 2 * custom and generic - custom > 0.3
                        marked += bad
                        print(f"  custom {custom:6.2f} ms  generic {generic:6.2f} ms"
                              f"{'  GENERIC PLAN SLOWER' if bad else ''}  "
                              f"{' '.join(statement.split())[:110]}", flush=True)
            print(f"{len(done)} statements, {marked} slower with a generic plan (target 0)")
        finally:
            raw.close()


if __name__ == "__main__":
    main()
