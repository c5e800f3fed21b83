"""How a pass finds its work (mail/outbox/claim.py), on SQLite and PostgreSQL with a real SMTP
server. With nothing to do, as the scheduler runs it every interval (issue #24: the idle tick
stays cheap however large the outbox): one read, no write, no sender thread; and whatever work
there is (a claim a gone pass left, an interrupted send) is still found when nothing is due.
With work, a claim looks its rows up by id, not by walking every pending email."""

from __future__ import annotations

import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cohort import db
from cohort.core.deliveries import first_email_of
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.models import Delivery
from cohort.services.participants import add_participant
from tests.fixtures.cohorts import CREATED
from tests.fixtures.statements import StatementsAndCommits, recorded_statements
from tests.mail.test_dispatch import PEOPLE
from tests.mail.test_dispatch import app as app  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # a real SMTP server


class Recorded(StatementsAndCommits):
    """The statements a pass runs and the commits it makes."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.statements: list[str] = []
        self.commits = 0

    def _statement(self, conn, cursor, statement, *args) -> None:
        self.statements.append(statement)

    def _commit(self, conn) -> None:
        self.commits += 1


def _engine(app):
    return app.extensions["cohort.engine"]


def _quiet_moment(app) -> datetime:
    """A moment after everything due at CREATED was sent and before the next email is due."""
    assert send_due(app, now=CREATED).sent > 0
    with db.read_session(_engine(app)) as session:
        following = session.scalar(select(Delivery.send_at).where(
            Delivery.state == "pending").order_by(Delivery.send_at).limit(1))
    assert following > CREATED + timedelta(minutes=2)
    return CREATED + timedelta(minutes=1)


def test_an_idle_pass_reads_once_writes_nothing_and_starts_no_sender(app, make_cohort,
                                                                     smtp_sink):
    make_cohort(_engine(app), people=PEOPLE)
    quiet = _quiet_moment(app)
    sent = smtp_sink.count()
    started = []
    original = threading.Thread.start

    def start(thread):
        started.append(thread.name)
        original(thread)

    threading.Thread.start = start
    try:
        with Recorded(_engine(app)) as recorded:
            report = send_due(app, now=quiet)
    finally:
        threading.Thread.start = original
    assert (report.sent, report.skipped, report.needs_review, report.failed) == (0, 0, 0, 0)
    assert len(recorded.statements) == 1 and recorded.statements[0].lstrip().startswith(
        "SELECT")
    assert not [name for name in started if name.startswith("cohort-outbox-sender")]
    assert smtp_sink.count() == sent


def test_with_nothing_due_an_interrupted_send_still_needs_review(app, make_cohort,
                                                                 smtp_sink):
    make_cohort(_engine(app), people=PEOPLE[:1])
    quiet = _quiet_moment(app)
    with db.transaction(_engine(app)) as session:
        row = session.scalars(select(Delivery).where(Delivery.state == "sent")).first()
        session.execute(update(Delivery).where(Delivery.id == row.id).values(
            state="sending", claimed_by="elsewhere/1",
            claimed_at=datetime.now(UTC) - timedelta(hours=1)))
    report = send_due(app, now=quiet)
    assert (report.needs_review, report.sent) == (1, 0)
    with db.read_session(_engine(app)) as session:
        assert session.get(Delivery, row.id).state == "needs_review"


def test_with_nothing_due_a_gone_passes_claim_goes_back_to_pending(app, make_cohort,
                                                                   smtp_sink):
    """Claimed by a process that has died, for later than the pass's moment: the pass gives
    it back (it is not due yet, so it stays pending)."""
    make_cohort(_engine(app), people=PEOPLE[:1])
    quiet = _quiet_moment(app)
    dead = subprocess.Popen(["true"])
    dead.wait()
    with db.transaction(_engine(app)) as session:
        row = session.scalars(select(Delivery).where(Delivery.state == "pending")
                              .order_by(Delivery.send_at)).first()
        session.execute(update(Delivery).where(Delivery.id == row.id).values(
            state="claimed", claimed_by=f"{socket.gethostname()}/{dead.pid}",
            claimed_at=datetime.now(UTC), claim_token="gone"))
    report = send_due(app, now=quiet)
    assert (report.needs_review, report.sent) == (0, 0)
    with db.read_session(_engine(app)) as session:
        back = session.get(Delivery, row.id)
        assert (back.state, back.claim_token) == ("pending", None)


def test_a_paused_cohorts_due_emails_leave_the_pass_idle_until_it_resumes(app, make_cohort,
                                                                          smtp_sink):
    from cohort import services

    cohort = make_cohort(_engine(app), people=PEOPLE[:1])
    with db.transaction(_engine(app)) as session:
        services.set_paused(session, cohort.id, True, CREATED)
    with Recorded(_engine(app)) as recorded:
        assert send_due(app, now=CREATED).sent == 0
    assert len(recorded.statements) == 1
    with db.transaction(_engine(app)) as session:
        services.set_paused(session, cohort.id, False, CREATED)
    assert send_due(app, now=CREATED).sent > 0


def test_on_sqlite_a_claim_looks_its_rows_up_by_id(app, make_cohort, smtp_sink):
    """Without table statistics SQLite answered the claim's `state = 'pending'` from the
    state index, reading every pending email's entry for each batch (9 ms a batch at 48,650
    pending, benchmarks/scheduler_tick.py); the rows the subquery chose must be found by id."""
    if _engine(app).dialect.name != "sqlite":
        pytest.skip("the plan of SQLite's planner without statistics")
    make_cohort(_engine(app), people=PEOPLE)
    with recorded_statements(_engine(app), parameters=True) as seen:
        assert send_due(app, now=CREATED).sent > 0
    claims = [(sql, sent) for sql, sent in seen
              if sql.startswith("UPDATE delivery SET state=?, claimed_at=?")
              and "delivery.id IN (SELECT" in sql]
    assert claims
    with _engine(app).connect() as conn:
        for sql, sent in claims:
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", sent)]
            assert plan[0] == "SEARCH delivery USING INTEGER PRIMARY KEY (rowid=?)", plan


def test_the_outboxs_housekeeping_writes_its_states_into_the_sql(app, make_cohort, smtp_sink):
    """Bound as parameters, `delivery.state IN ($1, $2)` got a generic plan on PostgreSQL once
    psycopg had prepared the statement (after five ticks) that read the whole outbox: 130 ms
    for the idle check at 336,405 emails (see claim._in_state, db.constant)."""
    make_cohort(_engine(app), people=PEOPLE[:1])
    quiet = _quiet_moment(app)
    with db.transaction(_engine(app)) as session:  # something to look after: a full pass
        session.execute(update(Delivery).where(Delivery.id == session.scalars(
            select(Delivery.id).where(Delivery.state == "sent")).first()).values(
            state="sending", claimed_by="elsewhere/1", claimed_at=datetime.now(UTC)))
    with recorded_statements(_engine(app), parameters=True) as seen:
        send_due(app, now=quiet)
    looked = [sql for sql, _sent in seen if "delivery.state IN" in sql]
    assert len(looked) >= 4  # the idle check, the claimers, the two kinds of gone rows
    for sql in looked:
        where = sql[sql.index("WHERE"):]
        assert "delivery.state IN ('" in where and "delivery.state IN (?" not in where \
            and "delivery.state IN (%(" not in where, sql
    assert "'sending'" in looked[0] and "'pending'" in looked[0]


def test_a_late_joiners_reminders_of_what_they_were_never_sent_are_skipped_at_once(
        app, make_cohort, smtp_sink):
    """Someone added to a running cohort has the whole plan planned for them, so the emails
    of items already past are days old and the first pass skips them as overdue. The
    reminders of those tasks and surveys were left pending: the outbox showed them as still
    to go (the demo's late joiner had a bundle of webinar-1 reminders weeks ahead), until
    the pass of their own day skipped them. The pass that skips a first email as overdue
    skips its reminders with it, as the mail policy does with a first email it skips."""
    cohort_id = make_cohort(_engine(app), people=PEOPLE[:1]).id
    released = {r.anchor: r for r in _rows(app, "task_released")}
    reminded = {r.anchor: r for r in _rows(app, "task_reminder")}
    # A task released more than the overdue limit (72 hours) before its reminder.
    anchor = min((a for a in reminded if reminded[a].send_at - released[a].send_at
                  > timedelta(days=4)), key=lambda a: released[a].send_at)
    joined = released[anchor].send_at + timedelta(hours=73)
    assert joined < reminded[anchor].send_at - timedelta(hours=12)
    with db.transaction(_engine(app)) as session:  # the course so far went out (as the demo)
        session.execute(update(Delivery).where(Delivery.send_at <= joined).values(
            state="sent", sent_at=Delivery.send_at))
        add_participant(session, cohort_id, ParticipantRow(
            "Ny Deltager", "ny1@x.dk", "Vejle Kommune", "leder", "da"), None, now=joined)
    send_due(app, now=joined)
    late = {(r.kind, r.anchor): r for r in _rows(app, None, recipient="ny1@x.dk")}
    first = late["task_released", anchor]
    assert first.state == "skipped" and first.last_error.startswith("skipped: overdue")
    reminder = late["task_reminder", anchor]
    assert (reminder.state, reminder.last_error) == (
        "skipped", "skipped: its first email was not sent")
    # Every reminder left pending reminds of a first email that is pending or was sent.
    for (kind, item), row in late.items():
        if kind in ("task_reminder", "survey_reminder") and row.state == "pending":
            assert late[first_email_of(kind, item)].state in ("pending", "sent"), row
    # Who was there from the start still gets theirs.
    assert [r.state for r in _rows(app, "task_reminder", recipient=PEOPLE[0].email,
                                   anchor=anchor)] == ["pending"]


def _rows(app, kind: str | None, **where) -> list[Delivery]:
    with db.read_session(_engine(app)) as session:
        query = select(Delivery).order_by(Delivery.id)
        if kind is not None:
            query = query.where(Delivery.kind == kind)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(session.scalars(query))
