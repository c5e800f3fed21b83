"""The facilitator's cohort overview and a participant's page of a 5,000-participant cohort,
served by gunicorn (2 workers) under wrk (10 s, 16 connections), next to a bare route on the
same server (benchmarks/bench_wsgi.py). Prints requests/s, p50 and p99 per URL and each page's
ratio to the bare route (targets: >= 0.3 of the bare route's requests/s, p99 under 100 ms).

The cohort is under way, as the demo's is: created from `digital-lederskab` six weeks ago, its
past emails sent, attendance recorded for the meetings held, surveys open.

    .venv/bin/python -m benchmarks.pages [--participants 5000] [--databases sqlite,postgresql]
                                         [--url DATABASE_URL] [--duration 10] [--profile]

PostgreSQL runs on a throwaway server (benchmarks/postgres.py) unless --url names one.
--profile skips the server and prints, per page, the time of one request in-process, its
SQL statements and their time, and the template's time. Needs `wrk` (`make bench-deps`);
gunicorn and wrk are driven by benchmarks/loadtest.py.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import before_render_template, template_rendered
from sqlalchemy import event, select, update
from sqlmodel import SQLModel

from cohort import db, services
from cohort.app import create_app
from cohort.core.programme import load_library
from cohort.demo import demo_participants, demo_start, record_demo_attendance
from cohort.models import CohortRole, CohortStaff, Delivery, Participant, ParticipantLink
from cohort.services import accounts
from cohort.web.access import LINK_SESSION_KEY, PARTICIPANT_SESSION_KEY

from . import loadtest
from .loadtest import REPO, SECRET
from .postgres import throwaway_postgres

PROGRAMME = "digital-lederskab"
RATIO_TARGET, P99_TARGET_MS = 0.3, 100.0


@dataclass(frozen=True)
class Prepared:
    cohort_id: int
    owner_cookie: str
    participant_cookie: str


def prepare(app, participants: int) -> Prepared:
    """The cohort under way, its owner, and the session cookies of the owner and of one
    participant (as a browser holds them after signing in / following the personal link)."""
    engine = app.extensions["cohort.engine"]
    SQLModel.metadata.drop_all(engine)
    db.create_schema(engine)
    library = load_library(REPO / "programmes")
    programme = library.programmes[PROGRAMME]
    zone = ZoneInfo(programme.timezone)
    now = datetime.now(UTC)
    start = demo_start(now.astimezone(zone).date())
    created = datetime.combine(start - timedelta(days=14), datetime.min.time(), zone)
    new = services.NewCohort(programme, library.sources[PROGRAMME], start)
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(participants, seed=7))]
    with db.transaction(engine) as session:
        cohort = services.create_cohort(session, new, people, now=created)
        session.execute(update(Delivery).where(
            Delivery.cohort_id == cohort.id, Delivery.state == "pending",
            Delivery.send_at <= now).values(state="sent", sent_at=Delivery.send_at))
        record_demo_attendance(session, cohort.id, now)
        owner = accounts.create_user(session, "owner@cohort.example", "facilitator",
                                     "a long benchmark password", name="Owner")
        session.add(CohortStaff(cohort_id=cohort.id, user_id=owner.id, role=CohortRole.OWNER))
        person = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort.id).order_by(Participant.id)).first()
        services.personal_token(session, person.id, SECRET, now)
        link = session.scalars(select(ParticipantLink).where(
            ParticipantLink.participant_id == person.id)).first()
        owner_session = {"_user_id": f"{owner.id}.{owner.session_version}", "_fresh": True}
        participant_session = {PARTICIPANT_SESSION_KEY: {"id": person.id,
                                                         "cohort_id": cohort.id,
                                                         "version": person.session_version},
                               LINK_SESSION_KEY: link.id}
        cohort_id = cohort.id
    if engine.dialect.name == "postgresql":  # what autovacuum does soon after a big insert
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return Prepared(cohort_id, _cookie(app, owner_session), _cookie(app, participant_session))


def _cookie(app, values: dict) -> str:
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(values)
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return f"{cookie.key}={cookie.value}"


def pages(prepared: Prepared) -> dict[str, tuple[str, str]]:
    return {"facilitator overview /cohorts/N": (f"/cohorts/{prepared.cohort_id}",
                                                prepared.owner_cookie),
            "participant page /me": ("/me", prepared.participant_cookie)}


# --- under load ----------------------------------------------------------------------------

def under_load(database_url: str, prepared: Prepared, folder: str, seconds: int) -> dict:
    return loadtest.each_url(database_url, folder, seconds, pages(prepared), warm_timeout=30)


def print_load(database: str, participants: int, seconds: int, figures: dict) -> None:
    print(f"Pages on {database}: gunicorn 2 workers, wrk {seconds} s x 16 connections, "
          f"cohort of {participants} participants")
    bare = None
    for name, f in figures.items():
        line = (f"  {name:<34} {f['rps']:8.0f} req/s  p50 {f['p50']:6.1f} ms  "
                f"p99 {f['p99']:6.1f} ms")
        if bare is None:
            bare = f
        else:
            ratio = f["rps"] / bare["rps"]
            ok = ratio >= RATIO_TARGET and f["p99"] < P99_TARGET_MS
            line += (f"  ratio {ratio:.2f} of {bare['rps']:.0f} (target >= {RATIO_TARGET}, "
                     f"p99 < {P99_TARGET_MS:.0f} ms: {'meets' if ok else 'MISSES'})")
        if f["errors"] or f["timeouts"]:
            line += f"  {f['errors']} non-2xx, {f['timeouts']} timed out!"
        print(line, flush=True)


# --- profile -------------------------------------------------------------------------------

def profile(app, prepared: Prepared, repeat: int = 20,
            urls: dict[str, tuple[str, str]] | None = None) -> None:
    """Per page in-process (`urls`, by default `pages`): request time, SQL statements and
    time, template time (best of `repeat` requests after a warm-up)."""
    engine = app.extensions["cohort.engine"]
    clock = {"sql": 0.0, "statements": 0, "template": 0.0}
    started: list[float] = []

    def before_sql(*_args) -> None:
        started.append(time.perf_counter())

    def after_sql(*_args) -> None:
        clock["sql"] += time.perf_counter() - started.pop()
        clock["statements"] += 1

    rendering: list[float] = []  # a template may render another (the kept site header)

    def before_template(*_args, **_kwargs) -> None:
        rendering.append(time.perf_counter())

    def after_template(*_args, **_kwargs) -> None:
        begun = rendering.pop()
        if not rendering:  # the outermost: the inner ones' time is in it
            clock["template"] += time.perf_counter() - begun

    event.listen(engine, "before_cursor_execute", before_sql)
    event.listen(engine, "after_cursor_execute", after_sql)
    before_render_template.connect(before_template, app)
    template_rendered.connect(after_template, app)
    for name, (path, cookie) in (urls or pages(prepared)).items():
        client = app.test_client()
        key, value = cookie.split("=", 1)
        client.set_cookie(key, value)
        best = None
        for _ in range(repeat + 1):
            clock.update(sql=0.0, statements=0, template=0.0)
            start = time.perf_counter()
            response = client.get(path)
            total = time.perf_counter() - start
            assert response.status_code == 200, (path, response.status_code)
            if best is None or total < best[0]:
                best = (total, dict(clock), len(response.data))
        total, figures, size = best
        print(f"  {name:<34} {total * 1000:7.1f} ms per request, {figures['statements']:4d} "
              f"SQL statements in {figures['sql'] * 1000:6.1f} ms, template "
              f"{figures['template'] * 1000:6.1f} ms, {size / 1024:.0f} KiB", flush=True)


def run(database: str, url: str | None, args) -> None:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        if url is None:
            url = (stack.enter_context(throwaway_postgres()) if database == "postgresql"
                   else f"sqlite:///{folder}/pages.sqlite3")
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET,
                          "INSTANCE_PATH": folder})
        started = time.perf_counter()
        prepared = prepare(app, args.participants)
        print(f"({database}: cohort of {args.participants} prepared in "
              f"{time.perf_counter() - started:.0f} s)", flush=True)
        if args.profile:
            print(f"Pages in-process on {database}, cohort of {args.participants}:")
            profile(app, prepared)
            app.extensions["cohort.engine"].dispose()
            return
        app.extensions["cohort.engine"].dispose()
        figures = under_load(url, prepared, folder, args.duration)
        print_load(database, args.participants, args.duration, figures)


def run_from_command_line(run, description: str) -> None:
    """The command line these page benchmarks share (this one and progress_grid.py): each
    database in turn through `run(database, url, args)`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--url", help="database URL (instead of a throwaway one)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per URL")
    parser.add_argument("--profile", action="store_true",
                        help="in-process SQL and template time per page, no server")
    args = parser.parse_args()
    if not args.profile and shutil.which("wrk") is None:
        sys.exit("wrk is not installed: make bench-deps (or apt-get install wrk)")
    for database in args.databases.split(","):
        run(database, args.url, args)


def main() -> None:
    run_from_command_line(run, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
