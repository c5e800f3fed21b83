"""Announcements and "remind these" through a real SMTP server (SQLite and PostgreSQL): an
announcement joins each participant's next bundled email (one message carrying it and the
item due then), an urgent one goes at once as its own message, and a reminder from the
progress grid is exactly one email per chosen person, in their language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.models import Delivery, Participant
from cohort.services.announcements import Audience
from tests.fixtures.cohorts import CREATED

PEOPLE = [
    ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                   "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
]


@pytest.fixture
def app(mailing_app):
    return mailing_app


@pytest.fixture
def cohort_id(app, make_cohort, smtp_sink) -> int:
    engine = app.extensions["cohort.engine"]
    cohort_id = make_cohort(engine, people=PEOPLE).id
    send_due(app, now=CREATED)  # the welcome and the invitations
    smtp_sink.messages.clear()
    return cohort_id


def _next_bundled(engine, cohort_id):
    """The first pending bundled send time after the cohort's first emails."""
    with db.transaction(engine) as session:
        return session.scalar(select(func.min(Delivery.send_at)).where(
            Delivery.cohort_id == cohort_id, Delivery.state == kinds.PENDING,
            Delivery.kind.in_(kinds.BUNDLED_KINDS)))


def _aware(value):
    from datetime import UTC
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ids(engine, cohort_id):
    with db.transaction(engine) as session:
        return {p.email: p.id for p in session.scalars(
            select(Participant).where(Participant.cohort_id == cohort_id))}


def test_an_announcement_rides_with_the_next_bundled_email(app, cohort_id, smtp_sink):
    engine = app.extensions["cohort.engine"]
    due = _aware(_next_bundled(engine, cohort_id))
    written = due - timedelta(hours=20)
    with db.transaction(engine) as session:
        services.announcements.queue_announcement(
            session, cohort_id, "Nyt lokale til workshoppen", "Vi mødes i lokale 4.",
            False, Audience(), None, written)
    assert send_due(app, now=written).sent == 0  # nothing goes before the bundle is due
    send_due(app, now=due)
    by_person = {}
    for message in smtp_sink.messages:
        by_person.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    assert sorted(by_person) == sorted(p.email for p in PEOPLE)
    for messages in by_person.values():
        carrying = [m for m in messages if "announcement" in m["X-Cohort-Delivery"]]
        assert len(carrying) == 1
        header = carrying[0]["X-Cohort-Delivery"]
        assert "; " in header  # bundled with what was due then: one message
        assert "Vi mødes i lokale 4." in carrying[0].get_body(("plain",)).get_content()


def test_an_urgent_announcement_goes_at_once_on_its_own(app, cohort_id, smtp_sink):
    engine = app.extensions["cohort.engine"]
    written = _aware(_next_bundled(engine, cohort_id)) - timedelta(hours=20)
    with db.transaction(engine) as session:
        services.announcements.queue_announcement(
            session, cohort_id, "The room changed", "We meet in room 4.", True, Audience(),
            None, written)
    assert send_due(app, now=written).sent == len(PEOPLE)
    assert len(smtp_sink.messages) == len(PEOPLE)
    subjects = {m["To"].addresses[0].addr_spec: str(m["Subject"]) for m in smtp_sink.messages}
    assert subjects["emma@odense.example"] == "Important: The room changed"
    assert subjects["soren@vejle.example"] == "Vigtigt: The room changed"
    assert subjects["kari@bergen.example"] == "Viktig: The room changed"
    for message in smtp_sink.messages:
        assert message["X-Cohort-Delivery"].count(";") == 0
        assert "We meet in room 4." in message.get_body(("html",)).get_content()


def test_remind_these_is_one_email_per_chosen_person(app, cohort_id, smtp_sink):
    engine = app.extensions["cohort.engine"]
    due = _aware(_next_bundled(engine, cohort_id))
    written = due - timedelta(hours=20)
    ids = _ids(engine, cohort_id)
    chosen = [ids["soren@vejle.example"], ids["emma@odense.example"]]
    with db.transaction(engine) as session:
        first = services.progress.remind(session, cohort_id, chosen, None, written)
        second = services.progress.remind(session, cohort_id, chosen, None, written)
    assert (first.queued, second.queued, second.already_waiting) == (2, 0, 2)
    send_due(app, now=due + timedelta(days=3))
    reminders = [m for m in smtp_sink.messages if "progress_reminder" in m["X-Cohort-Delivery"]]
    assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == \
        ["emma@odense.example", "soren@vejle.example"]
    english = next(m for m in reminders if m["To"].addresses[0].addr_spec.startswith("emma"))
    assert "A friendly reminder from your facilitators" in english.get_body(
        ("plain",)).get_content()
