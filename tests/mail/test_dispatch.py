"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import socket
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cohort import db, services
from cohort.app import create_app
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import SENDERS, database_started_at, send_due
from cohort.models import Delivery, Meeting, Participant, Prompt, Task
from tests.fixtures.cohorts import CREATED  # when make_cohort creates its cohorts
from tests.fixtures.paths import PROGRAMMES

PEOPLE = [
    ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune",
                   "Leder, hjemmeplejen", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                   "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
]
MAIL_FROM = "Cohort <kursus@cohort.example>"
LINK = re.compile(r"https://cohort\.example/p/[A-Za-z0-9_-]{43}")


def make_app(database_url: str, mail_url: str, tmp_path: Path, **config):
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES), "MAIL_URL": mail_url, "MAIL_FROM": MAIL_FROM,
        "BASE_URL": "https://cohort.example", **config,
    })
    db.create_schema(app.extensions["cohort.engine"])
    return app


@pytest.fixture
def app(database_url, tmp_path, monkeypatch, smtp_sink):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_app(database_url, smtp_sink.url, tmp_path)
    with app.app_context():
        yield app
    app.extensions["cohort.engine"].dispose()


def engine(app):
    return app.extensions["cohort.engine"]


def rows(app, **where) -> list[Delivery]:
    with db.transaction(engine(app)) as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(session.scalars(query))


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(message) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


def test_every_kind_goes_out_at_its_planned_time_exactly_once(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=PEOPLE)
    planned = rows(app)
    for moment in sorted({r.send_at for r in planned}):
        before = smtp_sink.count()
        report = send_due(app, now=moment)
        due = [r for r in planned if r.send_at == moment]
        # one email per recipient for the items due together (a bundle), one per meeting email
        emails = {kinds.bundle_key(r.cohort_id, r.kind, r.recipient, r.send_at) or r.id
                  for r in due}
        assert (report.sent, smtp_sink.count() - before) == (len(due), len(emails)), moment
    assert send_due(app, now=moment + timedelta(days=30)).sent == 0  # nothing twice

    after = rows(app)
    assert {r.state for r in after} == {"sent"}
    assert all(r.sent_at == r.send_at and r.attempts == 1 for r in after)
    received = smtp_sink.message_ids()
    assert set(received.values()) == {1} and set(received) == {r.message_id for r in after}
    assert {r.kind for r in after} == set(kinds.KINDS) - {kinds.MEETING_UPDATE,
                                                           kinds.MEETING_CANCELLATION}
    assert any("; " in m["X-Cohort-Delivery"] for m in smtp_sink.messages)  # some bundles
    digests = [m for m in smtp_sink.messages if "facilitator_digest" in m["X-Cohort-Delivery"]]
    assert len(digests) == 7 and {m["To"].addresses[0].addr_spec for m in digests} == {
        "kursus@cohort.example"}


def test_the_items_of_one_day_are_one_email_with_a_section_each(app, make_cohort,
                                                                 smtp_sink):
    """The day after workshop 1: five new tasks, a question and an evaluation reminder reach
    Søren as one Danish email, each under its own heading, and every row is sent once."""
    make_cohort(engine(app), people=PEOPLE[:1])
    send_due(app, now=CREATED)  # the welcome, which is never too late to go
    released = [r for r in rows(app, kind="task_released")
                if r.anchor == "task:case-work@workshop-1"][0]
    together = [r for r in rows(app) if r.send_at == released.send_at]
    assert len(together) >= 5
    report = send_due(app, now=released.send_at)
    (message,) = [m for m in smtp_sink.messages if "task:case-work@workshop-1"
                  in m["X-Cohort-Delivery"]]
    assert report.sent >= len(together)
    items = message["X-Cohort-Delivery"].split("; ")
    assert {item.split(" ", 1)[1] for item in items} == {
        f"{r.kind} {r.anchor}" for r in together}
    text, html = text_of(message), html_of(message)
    assert f"Der er {len(together)} nye punkter til dig i forløbet:" in text
    assert text.count("== Ny opgave: ") == sum(r.kind == "task_released" for r in together)
    assert html.count("<h2") == len(together)
    assert str(message["Subject"]).endswith(f"og {len(together) - 1} punkter mere")
    assert text.count("Din personlige side med") == 1  # the personal link once, not per section
    after = [r for r in rows(app) if r.send_at == released.send_at]
    assert {r.state for r in after} == {"sent"}
    assert {r.message_id for r in after} == {message["Message-ID"]}
    assert send_due(app, now=released.send_at + timedelta(hours=1)).sent == 0


def test_headers_language_and_encoding(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=PEOPLE)
    send_due(app, now=CREATED)  # welcome and the seven invitations
    tasks = [r for r in rows(app, kind="task_released") if r.anchor == "task:choose-case"]
    send_due(app, now=tasks[0].send_at)
    subjects = {}
    for raw, message in zip(smtp_sink.raw, smtp_sink.messages, strict=True):
        assert raw.isascii()  # æøå travel encoded (RFC 2047 headers, quoted-printable body)
        to = message["To"].addresses[0]
        if "task:choose-case" in message["X-Cohort-Delivery"]:
            subjects[to.addr_spec] = str(message["Subject"])
            language = message["Content-Language"]
            assert message.get_content_type() == "multipart/alternative"
            assert f'<html lang="{language}">' in html_of(message)
            assert LINK.search(text_of(message)) and LINK.search(html_of(message))
    # the task comes in the day's bundle, whose subject starts with its first item's
    assert {to: subject.split(":")[0] for to, subject in subjects.items()} == {
        "soren@vejle.example": "Ny opgave", "kari@bergen.example": "Ny oppgave",
        "emma@odense.example": "New task"}
    soren = smtp_sink.to("soren@vejle.example")
    invitation = next(m for m in soren if "meeting:workshop-1" in m["X-Cohort-Delivery"])
    assert invitation["To"].addresses[0].display_name == "Søren Ærenlund"
    assert str(invitation["Subject"]) == \
        "Invitation: Workshop 1, torsdag den 17. april 2025 kl. 09:00"
    assert invitation["Content-Language"] == "da"
    assert invitation["Auto-Submitted"] == "auto-generated"
    assert invitation["From"].addresses[0].addr_spec == "kursus@cohort.example"
    body = text_of(invitation)
    assert body.startswith("Kære Søren Ærenlund\n")
    assert "Hvornår: torsdag den 17. april 2025, 09:00–15:00" in body
    assert "Hvad er din ledelsesrolle i den digitale transformation?" in body
    kari = smtp_sink.to("kari@bergen.example")
    assert str(next(m for m in kari if "welcome" in m["X-Cohort-Delivery"])["Subject"]) \
        .startswith("Velkommen til")
    assert "Møtene:" in text_of(next(m for m in kari if "welcome" in m["X-Cohort-Delivery"]))
    row = next(r for r in rows(app) if r.kind == "welcome"
               and r.recipient == "soren@vejle.example")
    welcome = next(m for m in soren if "welcome" in m["X-Cohort-Delivery"])
    assert welcome["Message-ID"] == row.message_id


def test_reschedule_moves_pending_and_notifies_those_already_invited(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    send_due(app, now=CREATED)
    before = {(r.kind, r.anchor, r.recipient): r.send_at for r in rows(app)}
    with db.transaction(engine(app)) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-2",
                                     datetime(2025, 6, 19, 11, 0, tzinfo=UTC), None,
                                     now=CREATED + timedelta(days=1))
    after = rows(app)
    moved = [r for r in after if (r.kind, r.anchor, r.recipient) in before
             and before[(r.kind, r.anchor, r.recipient)] != r.send_at]
    assert moved and all(r.state == "pending" for r in moved)
    assert {r.kind for r in moved} >= {"prompt", "facilitator_digest", "survey_invitation"}
    updates = [r for r in after if r.kind == "meeting_update"]
    assert {r.recipient for r in updates} == {p.email for p in PEOPLE}
    assert {r.anchor for r in updates} == {"meeting:webinar-2#1"}
    assert send_due(app, now=CREATED + timedelta(days=1)).sent == 3
    notice = next(m for m in smtp_sink.to("soren@vejle.example")
                  if "meeting_update" in m["X-Cohort-Delivery"])
    assert str(notice["Subject"]) == \
        "Ændret: Webinar 2 er nu torsdag den 19. juni 2025 kl. 13:00"


def test_a_pending_invitation_carries_the_new_time_without_a_notice(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    with db.transaction(engine(app)) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-2",
                                     datetime(2025, 6, 19, 11, 0, tzinfo=UTC), None,
                                     now=CREATED)
    assert rows(app, kind="meeting_update") == []
    send_due(app, now=CREATED)
    invitation = next(m for m in smtp_sink.to("emma@odense.example")
                      if "meeting:webinar-2" in m["X-Cohort-Delivery"])
    assert "Thursday, 19 June 2025" in str(invitation["Subject"])  # en-GB, as on the pages


def test_cancelling_a_meeting(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE[:1]).id
    send_due(app, now=CREATED)
    with db.transaction(engine(app)) as session:
        services.meetings.cancel_meeting(session, cohort_id, "webinar-3", None, now=CREATED)
    anchored = [r for r in rows(app) if "webinar-3" in r.anchor and r.kind in
                ("prompt", "facilitator_digest", "survey_invitation", "survey_reminder")]
    assert anchored and {r.state for r in anchored} == {"cancelled"}
    send_due(app, now=CREATED)
    notice = next(m for m in smtp_sink.messages
                  if "meeting_cancellation" in m["X-Cohort-Delivery"])
    assert str(notice["Subject"]) == "Aflyst: Webinar 3, torsdag den 21. august 2025"


def test_removing_a_participant_cancels_their_pending_deliveries(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    send_due(app, now=CREATED)
    with db.transaction(engine(app)) as session:
        services.participants.remove_participant_by_email(session, cohort_id, "Kari@Bergen.example")
    karis = rows(app, recipient="kari@bergen.example")
    assert {r.state for r in karis if r.kind in ("welcome", "meeting_invitation")} == {"sent"}
    assert {r.state for r in karis if r.kind not in ("welcome", "meeting_invitation")} == {
        "cancelled"}
    first_task = min(r.send_at for r in karis if r.kind == "task_released")
    before = smtp_sink.count()
    assert send_due(app, now=first_task).sent > 0
    assert {m["To"].addresses[0].addr_spec for m in smtp_sink.messages[before:]} == {
        "soren@vejle.example", "emma@odense.example"}
    assert len(smtp_sink.to("kari@bergen.example")) == 8  # welcome + 7 invitations only


def test_a_bundle_is_handed_over_and_recorded_whole_with_each_rows_own_attempts(
        app, make_cohort, smtp_sink):
    """One email's rows are handed over and get the mail server's answer together (on
    PostgreSQL in one statement with the previous email's result: outbox/record.py); each
    row counts its own attempts, even when one of them had been tried before."""
    make_cohort(engine(app), people=PEOPLE[:1])
    send_due(app, now=CREATED)  # the welcome, which is never too late to go
    released = [r for r in rows(app, kind="task_released")
                if r.anchor == "task:case-work@workshop-1"][0]
    together = sorted(r.id for r in rows(app) if r.send_at == released.send_at)
    assert len(together) >= 5
    with db.transaction(engine(app)) as session:  # one row of the bundle was tried twice
        session.execute(update(Delivery).where(Delivery.id == together[0]).values(attempts=2))
    smtp_sink.data_replies.append("451 4.3.0 try again later")
    first = send_due(app, now=released.send_at)
    assert (first.sent, first.retrying) == (0, len(together))
    tried = [r for r in rows(app) if r.id in together]
    assert {(r.state, r.last_code, r.retry_at) for r in tried} == {
        ("pending", 451, tried[0].retry_at)} and tried[0].retry_at > released.send_at
    assert [r.attempts for r in tried] == [3] + [1] * (len(together) - 1)
    assert len({r.message_id for r in tried}) == 1

    second = send_due(app, now=tried[0].retry_at)
    assert second.sent == len(together)
    sent = [r for r in rows(app) if r.id in together]
    assert {(r.state, r.last_code, r.sent_at) for r in sent} == {
        ("sent", 250, tried[0].retry_at)}
    assert [r.attempts for r in sent] == [4] + [2] * (len(together) - 1)
    (message,) = [m for m in smtp_sink.messages if "task:case-work@workshop-1"
                  in m["X-Cohort-Delivery"]]
    assert {r.message_id for r in sent} == {message["Message-ID"]}


def test_temporary_errors_retry_with_backoff_then_deliver(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=PEOPLE[:1])  # 8 emails due at once
    smtp_sink.data_replies.extend(["421 4.3.2 Service busy, try later"] * 16)
    first = send_due(app, now=CREATED)
    assert (first.sent, first.retrying) == (0, 8)
    waiting = rows(app, kind="welcome")[0]
    assert (waiting.state, waiting.last_code, waiting.attempts) == ("pending", 421, 1)
    assert waiting.retry_at == CREATED + timedelta(minutes=1)
    assert send_due(app, now=CREATED + timedelta(seconds=59)).retrying == 0  # not due yet
    assert send_due(app, now=CREATED + timedelta(minutes=1)).retrying == 8
    assert rows(app, kind="welcome")[0].retry_at == CREATED + timedelta(minutes=3)  # doubled
    assert send_due(app, now=CREATED + timedelta(minutes=2)).sent == 0
    third = send_due(app, now=CREATED + timedelta(minutes=3))
    assert third.sent == 8 and smtp_sink.attempts == 24
    assert set(smtp_sink.message_ids().values()) == {1} and smtp_sink.count() == 8
    done = rows(app, kind="welcome")[0]
    assert (done.state, done.attempts, done.last_code) == ("sent", 3, 250)


def test_temporary_errors_give_up_after_the_limit(database_url, tmp_path, smtp_sink, make_cohort):
    app = make_app(database_url, smtp_sink.url, tmp_path, OUTBOX_MAX_ATTEMPTS=2,
                   OUTBOX_RETRY_BASE_SECONDS=10)
    with app.app_context():
        make_cohort(engine(app), people=PEOPLE[:1])
        smtp_sink.data_replies.extend(["451 4.7.1 Greylisted"] * 100)
        send_due(app, now=CREATED)
        report = send_due(app, now=CREATED + timedelta(seconds=10))
        assert report.failed == 8
        failed = rows(app, kind="welcome")[0]
        assert (failed.state, failed.last_code) == ("failed", 451)
        assert failed.last_error == "gave up after 2 attempts: 4.7.1 Greylisted"
    app.extensions["cohort.engine"].dispose()


def test_permanent_error_fails_at_once_with_the_code(app, make_cohort, smtp_sink, runner):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    smtp_sink.refuse["emma@odense.example"] = "550 5.1.1 <emma@odense.example>: no such user"
    report = send_due(app, now=CREATED)
    assert (report.sent, report.failed) == (16, 8)
    emma = rows(app, recipient="emma@odense.example", kind="welcome")[0]
    assert (emma.state, emma.attempts, emma.last_code) == ("failed", 1, 550)
    assert emma.last_error == "5.1.1 <emma@odense.example>: no such user"
    listed = app.test_cli_runner().invoke(args=["cohort", "outbox", str(cohort_id)])
    assert "FAILED" in listed.output and "550 5.1.1 <emma@odense.example>" in listed.output


def test_unreachable_server_stops_the_pass_and_retries_later(database_url, tmp_path, make_cohort):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app = make_app(database_url, f"smtp://127.0.0.1:{closed_port}", tmp_path)
    with app.app_context():
        make_cohort(engine(app), people=PEOPLE[:1])
        report = send_due(app, now=CREATED)
        # Each sender thread finds the server down once; the pass stops, the rest waits.
        tried = report.retrying
        assert 1 <= tried <= SENDERS and report.stopped.startswith("mail server unavailable")
        states = Counter((r.state, r.attempts) for r in rows(app) if r.send_at <= CREATED)
        assert states == {("pending", 1): tried, ("pending", 0): 8 - tried}
    app.extensions["cohort.engine"].dispose()


def test_an_interrupted_send_needs_review_and_is_never_resent(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=PEOPLE[:1])
    dead = subprocess.Popen(["true"])
    dead.wait()
    welcome, invitation = rows(app)[:2] if rows(app)[0].kind == "welcome" else (None, None)
    welcome = rows(app, kind="welcome")[0]
    invitation = rows(app, kind="meeting_invitation")[0]
    with db.transaction(engine(app)) as session:
        # One claimed by a process on this host that died; one on another host, long ago.
        session.execute(update(Delivery).where(Delivery.id == welcome.id).values(
            state="sending", claimed_by=f"{socket.gethostname()}/{dead.pid}",
            claimed_at=datetime.now(UTC), attempts=1))
        session.execute(update(Delivery).where(Delivery.id == invitation.id).values(
            state="sending", claimed_by="elsewhere/1",
            claimed_at=datetime.now(UTC) - timedelta(hours=1), attempts=1))
    report = send_due(app, now=CREATED)
    assert (report.needs_review, report.sent) == (2, 6)
    assert {rows(app, id=welcome.id)[0].state, rows(app, id=invitation.id)[0].state} == {
        "needs_review"}
    assert send_due(app, now=CREATED + timedelta(hours=1)).sent == 0
    assert smtp_sink.count() == 6


def test_rows_a_dead_pass_only_claimed_go_back_unless_the_database_restarted_since(
        app, make_cohort, smtp_sink):
    """Claimed but never handed over: safe to send, since hand-overs survive a dead process;
    unless the database (PostgreSQL server, or the machine for SQLite) restarted after the
    claim, which may have lost a hand-over that did not wait for the disk."""
    make_cohort(engine(app), people=PEOPLE[:1])
    dead = subprocess.Popen(["true"])
    dead.wait()
    welcome = rows(app, kind="welcome")[0]
    invitation = rows(app, kind="meeting_invitation")[0]
    started = database_started_at(engine(app))
    claimer = f"{socket.gethostname()}/{dead.pid}"
    with db.transaction(engine(app)) as session:
        session.execute(update(Delivery).where(Delivery.id == welcome.id).values(
            state="claimed", claimed_by=claimer, claimed_at=datetime.now(UTC),
            claim_token="a"))
        session.execute(update(Delivery).where(Delivery.id == invitation.id).values(
            state="claimed", claimed_by=claimer, claimed_at=started - timedelta(minutes=1),
            claim_token="b"))
    report = send_due(app, now=CREATED)
    assert (report.needs_review, report.sent) == (1, 7)
    assert rows(app, id=welcome.id)[0].state == "sent"
    assert rows(app, id=invitation.id)[0].state == "needs_review"
    assert smtp_sink.count() == 7


def test_a_recent_claim_by_a_live_pass_is_left_alone(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=PEOPLE[:1])
    welcome = rows(app, kind="welcome")[0]
    with db.transaction(engine(app)) as session:
        session.execute(update(Delivery).where(Delivery.id == welcome.id).values(
            state="sending", claimed_by="elsewhere/1", claimed_at=datetime.now(UTC)))
    assert send_due(app, now=CREATED).needs_review == 0
    assert rows(app, id=welcome.id)[0].state == "sending"


def test_overdue_and_settled_deliveries_are_skipped(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE[:1]).id
    send_due(app, now=CREATED)
    with db.transaction(engine(app)) as session:
        participant = session.scalars(select(Participant)).one()
        task = session.scalars(select(Task).where(Task.key == "choose-case")).one()
        services.set_task_status(session, participant, task.id, done=True, note="",
                                 now=task.release_at)
    reminder = next(r for r in rows(app, kind="task_reminder")
                    if r.anchor == "task:choose-case")
    for moment in sorted({r.send_at for r in rows(app) if r.send_at <= reminder.send_at}):
        send_due(app, now=moment)
    assert [(r.kind, r.anchor, r.last_error) for r in rows(app, state="skipped")] == [
        ("task_reminder", "task:choose-case", "skipped: already done")]
    # After a long downtime, what is days late is skipped rather than sent.
    late = datetime(2025, 5, 20, 9, 0, tzinfo=UTC)
    report = send_due(app, now=late)
    skipped = [r for r in rows(app, state="skipped") if r.last_error != "skipped: already done"]
    assert report.skipped == len(skipped) > 0 and report.sent == 0
    overdue = "skipped: overdue by more than 72 hour(s) when the outbox ran again"
    unsent = "skipped: its first email was not sent"
    assert {r.last_error for r in skipped} <= {overdue, unsent} | {
        r.last_error for r in skipped if r.last_error.startswith("skipped: too late")}
    assert all(r.send_at < late - timedelta(hours=72) or r.last_error.startswith(
        "skipped: too late") for r in skipped if r.last_error != unsent)
    # A reminder of a first email skipped as overdue is skipped with it, even one still
    # to come: never remind of something never told about (mail/outbox/claim.py).
    states = {(r.kind, r.anchor): r for r in rows(app)}
    assert any(r.last_error == unsent for r in skipped)
    for reminder in (r for r in skipped if r.last_error == unsent):
        first = states[kinds.first_email_of(reminder.kind, reminder.anchor)]
        assert (first.state, first.last_error) == ("skipped", overdue), reminder
    assert cohort_id


def test_pause_holds_a_cohort_and_resume_sends(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE[:1]).id
    with db.transaction(engine(app)) as session:
        services.set_paused(session, cohort_id, True, CREATED)
    assert send_due(app, now=CREATED).sent == 0 and smtp_sink.count() == 0
    with db.transaction(engine(app)) as session:
        services.set_paused(session, cohort_id, False, CREATED)
    assert send_due(app, now=CREATED + timedelta(hours=1)).sent == 8


def test_a_pause_of_days_after_the_launch_still_sends_the_welcome(app, make_cohort,
                                                                  smtp_sink):
    """The welcome carries the personal link: skipped as overdue after a pause longer than
    the overdue limit, nobody in the cohort could sign in. The rest that is days late is
    skipped as before."""
    cohort_id = make_cohort(engine(app), people=PEOPLE[:1]).id
    with db.transaction(engine(app)) as session:
        services.set_paused(session, cohort_id, True, CREATED)
    later = CREATED + timedelta(days=5)
    with db.transaction(engine(app)) as session:
        services.set_paused(session, cohort_id, False, later)
    send_due(app, now=later)
    (welcome,) = rows(app, kind="welcome")
    assert welcome.state == "sent"
    assert [m["X-Cohort-Delivery"] for m in smtp_sink.messages if "welcome" in
            m["X-Cohort-Delivery"]] and smtp_sink.count() >= 1
    overdue = [r for r in rows(app, state="skipped") if r.last_error.startswith(
        "skipped: overdue")]
    assert overdue and all(r.kind != "welcome" for r in overdue)


def test_resend_is_a_new_row_with_its_own_message_id(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=PEOPLE[:1])
    send_due(app, now=CREATED)
    original = rows(app, kind="welcome")[0]
    with db.transaction(engine(app)) as session:
        plan = services.deliveries.resend_plan(session, original.id)
        copy = services.resend(session, original.id, CREATED + timedelta(hours=2),
                               confirmed=plan.fingerprint)
        with pytest.raises(ValueError, match="pending"):
            services.resend(session, rows(app, kind="prompt")[0].id, CREATED, confirmed=None)
    assert (copy.resend_of, copy.resend_number) == (original.id, 1)
    assert send_due(app, now=CREATED + timedelta(hours=2)).sent == 1
    ids = [m["Message-ID"] for m in smtp_sink.messages if "welcome" in m["X-Cohort-Delivery"]]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert rows(app, id=original.id)[0].state == "sent"


def test_digest_gathers_answers_since_the_last_meeting(app, make_cohort, smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE[:2]).id
    with db.transaction(engine(app)) as session:
        services.set_facilitator_email(session, cohort_id, "Facilitator <fac@kommune.example>")
        soren = session.scalars(select(Participant).where(
            Participant.email == "soren@vejle.example")).one()
        prompt = session.scalars(select(Prompt).where(
            Prompt.key == "after-meeting@workshop-1")).one()
        services.answer_prompt(session, soren, prompt.id, "Hvordan involverer vi borgerne?",
                               prompt.send_at + timedelta(hours=3))
        old = session.scalars(select(Prompt).where(
            Prompt.key == "after-meeting@kickoff")).one()
        services.answer_prompt(session, soren, old.id, "Før workshop 1",
                               old.send_at + timedelta(hours=1))
        webinar = session.scalars(select(Meeting).where(Meeting.key == "webinar-1")).one()
    digest_row = next(r for r in rows(app, kind="facilitator_digest")
                      if r.anchor == "meeting:webinar-1")
    send_due(app, now=digest_row.send_at)  # what is days late is skipped, the digest goes
    digest = next(m for m in smtp_sink.messages if "meeting:webinar-1" in m["X-Cohort-Delivery"]
                  and "facilitator_digest" in m["X-Cohort-Delivery"])
    assert digest["To"].addresses[0].addr_spec == "fac@kommune.example"
    assert str(digest["Subject"]) == "Dagsorden for Webinar 1: 1 bidrag fra deltagerne"
    body = text_of(digest)
    assert "Søren Ærenlund (Vejle Kommune): Hvordan involverer vi borgerne?" in body
    assert "Før workshop 1" not in body
    with db.transaction(engine(app)) as session:
        live = services.facilitator_digest(session, cohort_id, "webinar-1",
                                           webinar.starts_at - timedelta(days=1))
    assert live.count == 1


def test_meeting_invitations_carry_the_meeting_as_ics(app, make_cohort, smtp_sink):
    """How the email carries the .ics composed with it (mail.compose.meeting_attachment;
    its content is tested in tests/mail/test_participant_emails.py): a text/calendar
    alternative with the METHOD, and the same file attached. Other kinds of email have none."""
    make_cohort(engine(app), people=PEOPLE[:1])
    send_due(app, now=CREATED)
    invitation = next(m for m in smtp_sink.messages
                      if "meeting_invitation" in m["X-Cohort-Delivery"])
    welcome = next(m for m in smtp_sink.messages if "welcome" in m["X-Cohort-Delivery"])
    assert welcome.get_content_type() == "multipart/alternative"  # no .ics for other kinds
    assert invitation.get_content_type() == "multipart/mixed"
    alternative = next(invitation.iter_parts())
    calendar_part = [p for p in alternative.iter_parts()
                     if p.get_content_type() == "text/calendar"]
    assert len(calendar_part) == 1 and calendar_part[0].get_param("method") == "REQUEST"
    attachment = next(invitation.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert b"METHOD:REQUEST" in attachment.get_content()


def test_html_is_escaped(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=[ParticipantRow(
        "Anne <b>Ø</b>", "anne@x.example", "X & Y", "Leder", "da")])
    send_due(app, now=CREATED)
    html = html_of(smtp_sink.messages[0])
    assert "Anne &lt;b&gt;Ø&lt;/b&gt;" in html and "<b>Ø</b>" not in html


def test_catch_up_after_an_absence_carries_the_missed_meeting(app, make_cohort, smtp_sink):
    """Marked absent at workshop 1: the next morning's email has its material and the next
    meeting; it is not sent once that next meeting has begun."""
    from cohort.core.attendance import ABSENT, Mark

    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    with db.transaction(engine(app)) as session:
        workshop = services.get_meeting(session, cohort_id, "workshop-1")
        soren = session.scalars(select(Participant).where(
            Participant.email == "soren@vejle.example")).one()
        marked_at = workshop.ends_at + timedelta(hours=1)
        services.set_marks(session, cohort_id, "workshop-1", {soren.id: Mark(ABSENT)}, "test",
                           marked_at)
    (catch_up,) = rows(app, kind="catch_up")
    report = send_due(app, now=catch_up.send_at)
    assert report.sent >= 1
    message = next(m for m in smtp_sink.to("soren@vejle.example")
                   if "catch_up" in m["X-Cohort-Delivery"])
    body = text_of(message)
    # Inside the day's email (the mail policy bundles it), as a section of its own.
    assert "Det gik du glip af til Workshop 1" in body
    assert "Forståelsesrammer" in body and "Næste møde: Webinar 1" in body
    assert "Hvad er din ledelsesrolle" in body  # the leading question
    assert rows(app, kind="catch_up")[0].state == "sent"


def test_results_are_stored_as_sqlalchemy_stores_them(app, make_cohort, smtp_sink):
    """The hand-over and result UPDATEs run on the driver's cursor (outbox/record.py,
    DriverStatement): their times must be stored exactly as the rest of the code stores them
    (on SQLite a text compared as text with `send_at` and `retry_at`)."""
    make_cohort(engine(app), people=PEOPLE[:1])
    smtp_sink.data_replies.append("451 try again later")
    send_due(app, now=CREATED)
    with engine(app).connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT kind, state, send_at, sent_at, retry_at, attempts, message_id "
            "FROM delivery WHERE attempts > 0 ORDER BY id").all()
    assert {row.state for row in stored} == {"sent", "pending"}
    for row in stored:
        if row.state == "sent":  # sent at the pass's `now`, which is every row's send_at
            assert (row.sent_at, row.retry_at) == (row.send_at, None)
        else:
            assert row.sent_at is None and row.retry_at > row.send_at
        assert row.attempts == 1 and row.message_id.startswith("<cohort.")
    retried = next(row for row in stored if row.state == "pending")
    retry_at = rows(app, kind=retried.kind, state="pending", attempts=1)[0].retry_at
    with db.transaction(engine(app)) as session:  # compared in SQL as the claim compares it
        assert session.scalar(select(Delivery.id).where(
            Delivery.retry_at == retry_at)) is not None


def test_a_meeting_changed_between_batches_of_one_pass_gets_a_new_invitation(
        app, make_cohort, smtp_sink):
    """A pass makes each meeting's invitation once (lookups.Lookups.invitation) but keys it
    by what it shows: a meeting moved while the pass is under way is sent as it is now."""
    from cohort.mail.dispatch import Dispatcher, OutboxSettings

    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    dispatcher = Dispatcher(engine(app), OutboxSettings.from_app(app))

    def invitations(token: str) -> dict[str, bytes]:
        ids = dispatcher._claim(CREATED, cohort_id, 100, token)
        found = {}
        for group, message in dispatcher._compose(ids, token, CREATED):
            if group[0].kind == kinds.MEETING_INVITATION and group[0].anchor.endswith(
                    "webinar-2"):
                found[group[0].recipient] = message.data
        return found

    with db.transaction(engine(app)) as session:  # one person's rows wait for the 2nd batch
        session.execute(update(Delivery).where(Delivery.recipient == PEOPLE[2].email)
                        .values(send_at=CREATED + timedelta(minutes=1)))
    first = invitations("first")
    with db.transaction(engine(app)) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-2",
                                     datetime(2025, 6, 19, 11, 0, tzinfo=UTC), None,
                                     now=CREATED)
    with db.transaction(engine(app)) as session:
        session.execute(update(Delivery).where(Delivery.recipient == PEOPLE[2].email)
                        .values(send_at=CREATED))
    second = invitations("second")
    assert set(first) == {PEOPLE[0].email, PEOPLE[1].email}
    assert set(second) == {PEOPLE[2].email}
    assert b"20250619T130000" in _ics_of(second[PEOPLE[2].email])  # 13:00 in Copenhagen
    assert all(b"20250619T130000" not in _ics_of(data) for data in first.values())


def _ics_of(raw: bytes) -> bytes:
    import email
    from email.policy import default

    message = email.message_from_bytes(raw, policy=default)
    part = next(p for p in message.walk() if p.get_content_type() == "application/ics")
    return part.get_content()


def test_composing_writes_only_while_holding_the_sqlite_writer_lock(app, make_cohort,
                                                                    database_url):
    """On SQLite the pass's threads take turns to write (Dispatcher._sqlite_writer): a sender
    that found SQLite's own lock taken would sleep in its busy handler well past the other's
    commit. Composing a batch writes personal links, calendar feeds and settled rows: each
    of those statements, and the commits, run while the composing thread holds the lock."""
    import threading

    from sqlalchemy import event

    from cohort.mail.dispatch import Dispatcher, OutboxSettings
    from cohort.mail.outbox.compose import Settle

    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has row locks: no writer lock of the pass's own")

    class Recorded:
        def __init__(self) -> None:
            self.lock, self.owner = threading.RLock(), None

        def __enter__(self):
            self.lock.acquire()
            self.owner = threading.get_ident()

        def __exit__(self, *exc):
            self.owner = None
            self.lock.release()

    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    gone = rows(app, kind=kinds.MEETING_INVITATION)[0].id
    with db.transaction(engine(app)) as session:  # a row that ends without an email
        session.execute(update(Delivery).where(Delivery.id == gone)
                        .values(anchor="meeting:gone"))
    dispatcher = Dispatcher(engine(app), OutboxSettings.from_app(app))
    dispatcher._sqlite_writer = lock = Recorded()
    writes = []

    def record(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            writes.append((verb, lock.owner == threading.get_ident()))

    def record_commit(conn):
        writes.append(("COMMIT", lock.owner == threading.get_ident()))

    ids = dispatcher._claim(CREATED, cohort_id, 100, "token")
    event.listen(engine(app), "before_cursor_execute", record)
    event.listen(engine(app), "commit", record_commit)
    try:
        prepared = dispatcher._compose(ids, "token", CREATED)
    finally:
        event.remove(engine(app), "before_cursor_execute", record)
        event.remove(engine(app), "commit", record_commit)
    verbs = {verb for verb, _held in writes}
    assert {"INSERT", "UPDATE"} <= verbs  # links and feeds made, cancelled rows settled
    assert all(held for _verb, held in writes), writes
    assert [group for group, message in prepared if isinstance(message, Settle)] == [
        [d for d in group if d.id == gone] for group, _message in prepared
        if any(d.id == gone for d in group)]
    assert [r.id for r in rows(app, state="cancelled")] == [gone]
