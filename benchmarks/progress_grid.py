"""The progress grid of a 5,000-participant cohort, served by gunicorn (2 workers) under wrk
(10 s, 16 connections), next to a bare route on the same server in the same run
(benchmarks/bench_wsgi.py). Prints requests/s, p50 and p99 per URL and each page's ratio to the
bare route, as benchmarks/pages.py does (the same targets: >= 0.3 of the bare route's
requests/s, p99 under 100 ms).

The cohort is the one benchmarks/pages.py prepares (created from `digital-lederskab` six weeks
ago, past emails sent, attendance recorded for the meetings held), and in addition half the
participants have done the first released tasks, a third have answered the reflection
questions sent, and two thirds have opened their personal link. Three URLs: the first page
(sorted by name), a filtered and sorted page ("missed 2 or more", most missed first) and the
last page (paging to the end).

    .venv/bin/python -m benchmarks.progress_grid [--participants 5000]
        [--databases sqlite,postgresql] [--url DATABASE_URL] [--duration 10] [--profile]

--profile skips the server and prints, per URL, the time of one request in-process, its SQL
statements and their time, and the template's time.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from cohort import db
from cohort.app import create_app
from cohort.core.progress import PAGE_SIZE
from cohort.models import Participant, Prompt, PromptAnswer, Task, TaskStatus

from . import loadtest
from . import pages as base
from .postgres import throwaway_postgres


def add_progress(app, cohort_id: int) -> None:
    """Tasks done, answers given and links opened, for a grid with something to count."""
    engine = app.extensions["cohort.engine"]
    now = datetime.now(UTC)
    with db.transaction(engine) as session:
        ids = session.scalars(select(Participant.id).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).all()
        tasks = session.scalars(select(Task.id).where(
            Task.cohort_id == cohort_id, Task.release_at <= now)).all()
        prompts = session.scalars(select(Prompt.id).where(
            Prompt.cohort_id == cohort_id, Prompt.send_at <= now)).all()
        done = [dict(participant_id=pid, task_id=tid, done_at=now, note="", updated_at=now)
                for pid in ids[::2] for tid in tasks]
        answers = [dict(participant_id=pid, prompt_id=qid, answer="Et svar", updated_at=now)
                   for pid in ids[::3] for qid in prompts]
        for rows, model in ((done, TaskStatus), (answers, PromptAnswer)):
            for chunk in (rows[i:i + 5000] for i in range(0, len(rows), 5000)):
                session.execute(insert(model), chunk)
        opened = [pid for n, pid in enumerate(ids) if n % 3]
        for chunk in (opened[i:i + 500] for i in range(0, len(opened), 500)):
            session.execute(update(Participant).where(Participant.id.in_(chunk))
                            .values(link_opened_at=now))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def grid_pages(prepared: base.Prepared, participants: int) -> dict[str, tuple[str, str]]:
    last = max(1, -(-participants // PAGE_SIZE))
    path = f"/cohorts/{prepared.cohort_id}/progress"
    return {"grid first page": (path, prepared.owner_cookie),
            "grid missed>=2, sorted": (f"{path}?missed=2&sort=missed&order=desc",
                                       prepared.owner_cookie),
            f"grid last page ({last})": (f"{path}?page={last}", prepared.owner_cookie)}


def under_load(database_url: str, urls: dict, folder: str, seconds: int) -> dict:
    return loadtest.each_url(database_url, folder, seconds, urls, warm_timeout=60)


def run(database: str, url: str | None, args) -> None:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        if url is None:
            url = (stack.enter_context(throwaway_postgres()) if database == "postgresql"
                   else f"sqlite:///{folder}/grid.sqlite3")
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": loadtest.SECRET,
                          "INSTANCE_PATH": folder})
        started = time.perf_counter()
        prepared = base.prepare(app, args.participants)
        add_progress(app, prepared.cohort_id)
        print(f"({database}: cohort of {args.participants} prepared in "
              f"{time.perf_counter() - started:.0f} s)", flush=True)
        urls = grid_pages(prepared, args.participants)
        if args.profile:
            print(f"Progress grid in-process on {database}, cohort of {args.participants}:")
            base.profile(app, prepared, repeat=5, urls=urls)
            app.extensions["cohort.engine"].dispose()
            return
        app.extensions["cohort.engine"].dispose()
        figures = under_load(url, urls, folder, args.duration)
        base.print_load(database, args.participants, args.duration, figures)


def main() -> None:
    base.run_from_command_line(run, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
