"""The scheduler: one interval job running the outbox pass, in-process and as `cohort scheduler`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from cohort import db
from cohort.app import create_app
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.mail.scheduler import JOB_ID, start_scheduler
from cohort.models import Delivery
from tests.fixtures.paths import PROGRAMMES, REPO


def cohort_due_now(app, make_cohort) -> None:
    """Created now, starting next month: its welcome and seven invitations are due at once
    (moved to now: the mail policy would hold them outside working hours, and this test is
    about the scheduler, whatever the hour it runs)."""
    now = datetime.now(UTC)
    engine = app.extensions["cohort.engine"]
    cohort = make_cohort(engine, people=[ParticipantRow(
        "Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da")],
        start=date.today() + timedelta(days=30), now=now)
    with db.transaction(engine) as session:
        session.execute(update(Delivery).where(
            Delivery.cohort_id == cohort.id,
            Delivery.kind.in_((kinds.WELCOME, kinds.MEETING_INVITATION))).values(send_at=now))


def wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_in_process_scheduler_sends_due_mail_once(tmp_path, make_cohort):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
                      "SECRET_KEY": "test", "PROGRAMMES_DIR": str(PROGRAMMES),
                      "MAIL_URL": f"file://{tmp_path / 'mail'}"})
    db.create_schema(app.extensions["cohort.engine"])
    cohort_due_now(app, make_cohort)
    scheduler = start_scheduler(app, interval_seconds=0.2)
    try:
        assert start_scheduler(app) is scheduler  # once per process
        job = scheduler.get_job(JOB_ID)
        assert job.coalesce is True and job.max_instances == 1
        assert len(scheduler.get_jobs()) == 1
        assert wait_for(lambda: len(list((tmp_path / "mail").glob("*.eml"))) == 8)
        time.sleep(0.6)  # a few more ticks: nothing is sent twice
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 8
    finally:
        scheduler.shutdown(wait=True)
        app.extensions["cohort.engine"].dispose()


def environment(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    env.update(COHORT_DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}",
               COHORT_INSTANCE_PATH=str(tmp_path / "instance"), COHORT_SECRET_KEY="test",
               COHORT_PROGRAMMES_DIR=str(PROGRAMMES),
               COHORT_SCHEDULER_INTERVAL_SECONDS="0.3")
    return env


@pytest.mark.slow
def test_cohort_scheduler_runs_as_its_own_process_and_stops_on_sigterm(tmp_path, make_cohort):
    env = environment(tmp_path)
    app = create_app({"DATABASE_URL": env["COHORT_DATABASE_URL"], "SECRET_KEY": "test",
                      "PROGRAMMES_DIR": env["COHORT_PROGRAMMES_DIR"]})
    db.create_schema(app.extensions["cohort.engine"])
    cohort_due_now(app, make_cohort)
    app.extensions["cohort.engine"].dispose()
    process = subprocess.Popen(
        [sys.executable, "-c", "from cohort.app import main; main()", "scheduler"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mail = tmp_path / "instance" / "mail"
    try:
        assert wait_for(lambda: len(list(mail.glob("*.eml"))) == 8), process.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Scheduler running" in out and "Scheduler stopped." in out


@pytest.mark.slow
def test_make_run_starts_the_scheduler_inside_the_server_process_only_when_asked(tmp_path):
    code = ("import wsgi; s = wsgi.app.extensions.get('cohort.mail.scheduler'); "
            "print('running' if s and s.running else 'none'); s and s.shutdown()")
    env = environment(tmp_path)
    plain = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert plain.stdout.strip() == "none", plain.stderr
    env["COHORT_RUN_SCHEDULER"] = "1"
    demo = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert demo.stdout.strip() == "running", demo.stderr
