"""Real dispatcher processes: killed with SIGKILL mid-batch, and two passes at the same time.

Counted by Message-ID at a real SMTP server: no message may be lost (every row is sent, or
needs review because its fate is uncertain) and none may arrive twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.app import create_app
from cohort.core.programme import load_library
from cohort.demo import demo_participants
from cohort.mail.dispatch import SENDERS
from cohort.models import Delivery

REPO = Path(__file__).resolve().parents[2]
CREATED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SEND_DUE = [sys.executable, "-c", "from cohort.app import main; main()", "send-due",
            "--now", CREATED.isoformat()]


def prepare(database_url: str, tmp_path: Path, participants: int) -> int:
    """A cohort whose welcome and seven invitations per participant are all due at CREATED."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "PROGRAMMES_DIR": str(REPO / "programmes")})
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    library = load_library(REPO / "programmes")
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2025, 4, 8))
    people = [p.__class__(p.name, f"{i}.{p.email}", p.organisation, p.role, p.language)
              for i, p in enumerate(demo_participants(participants))]
    with db.transaction(engine) as session:
        cohort = services.create_cohort(session, new, people, now=CREATED)
        services.launch_cohort(session, cohort.id, None, CREATED)  # drafts send nothing
        due = session.scalar(select(db_count()).where(Delivery.send_at <= CREATED))
    engine.dispose()
    return due


def db_count():
    from sqlalchemy import func

    return func.count(Delivery.id)


def dispatcher_env(database_url: str, tmp_path: Path, mail_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    env.update(COHORT_DATABASE_URL=database_url, COHORT_MAIL_URL=mail_url,
               COHORT_INSTANCE_PATH=str(tmp_path / "instance"), COHORT_SECRET_KEY="test",
               COHORT_PROGRAMMES_DIR=str(REPO / "programmes"),
               COHORT_MAIL_FROM="Cohort <kursus@cohort.example>")
    return env


def final_rows(database_url: str) -> list[Delivery]:
    engine = db.make_engine(database_url)
    with db.transaction(engine) as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.send_at <= CREATED)))
    engine.dispose()
    return rows


def assert_exactly_once_or_review(rows: list[Delivery], received: Counter) -> Counter:
    states = Counter(r.state for r in rows)
    assert set(states) <= {"sent", "needs_review"}, states  # nothing pending, nothing lost
    assert all(count == 1 for count in received.values()), "a message arrived twice"
    sent_ids = {r.message_id for r in rows if r.state == "sent"}
    assert sent_ids <= set(received), "a row marked sent never arrived"
    assert set(received) <= {r.message_id for r in rows}
    return states


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize("moment", ["while the server holds a message", "at a random point"])
def test_sigkill_in_the_middle_of_a_batch_of_500(tmp_path, smtp_sink, moment, database, request):
    database_url = (f"sqlite:///{tmp_path / 'cohort.sqlite3'}" if database == "sqlite"
                    else request.getfixturevalue("postgres_server").new_database())
    due = prepare(database_url, tmp_path, participants=63)
    assert due == 504
    env = dispatcher_env(database_url, tmp_path, smtp_sink.url)
    if moment.startswith("while"):
        smtp_sink.hold_at = 200  # accepted, but the dispatcher never hears "250"
    log = (tmp_path / "first-pass.log").open("wb")
    first = subprocess.Popen(SEND_DUE, env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        if smtp_sink.hold_at:
            assert smtp_sink.held.wait(120), "the dispatcher never reached message 200"
        else:
            while smtp_sink.count() < 150 and first.poll() is None:
                time.sleep(0.005)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(30)
        log.close()
        smtp_sink.release.set()
    assert first.returncode == -signal.SIGKILL
    killed_at = smtp_sink.count()
    assert 0 < killed_at < due

    second = subprocess.run(SEND_DUE, env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stderr
    received = smtp_sink.message_ids()
    states = assert_exactly_once_or_review(final_rows(database_url), received)
    # Only the messages in flight (one per sender thread) can be uncertain.
    assert states["needs_review"] <= SENDERS
    assert states["sent"] + states["needs_review"] == due
    if moment.startswith("while"):
        assert states["needs_review"] >= 1
        assert len(received) >= states["sent"] + 1  # the held one had in fact arrived, once
        assert f"needs review {states['needs_review']}" in second.stdout
    else:
        assert len(received) + states["needs_review"] >= due
    if database == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(database_url)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_dispatchers_at_once_share_the_work_and_never_send_twice(tmp_path, smtp_sink, request,
                                                                     database):
    """Two `send-due` processes on one due outbox of ten batches: every email once.

    On PostgreSQL the batch claims skip each other's locked rows, so both must do part of the
    work; on SQLite the guarded claim serialises them, and who gets what is up to timing.
    """
    database_url = (f"sqlite:///{tmp_path / 'cohort.sqlite3'}" if database == "sqlite"
                    else request.getfixturevalue("postgres_server").new_database())
    due = prepare(database_url, tmp_path, participants=125)
    assert due == 1000
    env = dispatcher_env(database_url, tmp_path, smtp_sink.url)
    passes = [subprocess.Popen([*SEND_DUE, "--json"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in passes]
    assert [p.returncode for p in passes] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    assert sum(r["sent"] for r in reports) == due
    if database == "postgresql":
        assert all(r["sent"] > 0 for r in reports), reports  # both did part of the work
    received = smtp_sink.message_ids()
    assert len(received) == due and set(received.values()) == {1}
    rows = final_rows(database_url)
    assert Counter(r.state for r in rows) == {"sent": due}
    assert {r.message_id for r in rows} == set(received)
    if database == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(database_url)
