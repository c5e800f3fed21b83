"""The "your new buddy" email through a real SMTP server: after the welcome named each buddy,
someone leaves and the groups are repaired (confirmed): those whose buddy changed get one
email in their language naming the new buddy; nobody else gets anything (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.deliveries import BUNDLED_KINDS
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.models import Delivery
from tests.fixtures.cohorts import CREATED

PEOPLE = [
    ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                   "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
    ParticipantRow("Mads Holm", "mads@aarhus.example", "Aarhus Kommune", "Leder", "da"),
    ParticipantRow("Lise Berg", "lise@kolding.example", "Kolding Kommune", "Leder", "da"),
    ParticipantRow("Ole Dahl", "ole@horsens.example", "Horsens Kommune", "Leder", "da"),
]
NEXT_MORNING = CREATED + timedelta(hours=22)  # Tuesday 08:00 in Copenhagen (07:00 UTC)
SUBJECTS = {"da": ("Din nye buddy i Buddyordning", "Dine nye buddyer i Buddyordning"),
            "nb": ("Din nye buddy i Buddyordning", "Dine nye buddyer i Buddyordning"),
            "en": ("Your new buddy in Buddyordning", "Your new buddies in Buddyordning")}


@pytest.fixture
def app(mailing_app):
    return mailing_app


def test_those_whose_buddy_changed_get_one_email_naming_the_new_buddy(app, make_cohort,
                                                                        smtp_sink):
    engine = app.extensions["cohort.engine"]
    cohort_id = make_cohort(engine, people=PEOPLE).id
    assert send_due(app, now=CREATED).sent == len(PEOPLE) * 8  # welcome and 7 invitations
    welcomes = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.messages
                if "welcome" in m["X-Cohort-Delivery"]}
    assert "Buddyordning – din buddy:" in welcomes["soren@vejle.example"].get_body(
        ("plain",)).get_content()
    later = CREATED + timedelta(hours=1)
    with db.transaction(engine) as session:
        services.participants.remove_participant_by_email(session, cohort_id,
                                                          "ole@horsens.example", now=later)
        preview = services.group_changes.preview(session, cohort_id, "repair")
        result = services.group_changes.apply(session, cohort_id, "repair", now=later,
                                              confirmed=preview.fingerprint)
        buddies = {c.person: c.after for c in preview.changes}
        names = services.participant_names(session, cohort_id)
    assert 0 < len(result.notified) <= 3 and "ole@horsens.example" not in result.notified
    # The welcome went this morning, and the mail policy allows one such email a day: the
    # notice goes at the next morning's first allowed time, 08:00 in Copenhagen.
    assert send_due(app, now=later).sent == 0
    before = smtp_sink.count()
    assert send_due(app, now=NEXT_MORNING).sent == len(result.notified)
    emails = smtp_sink.messages[before:]
    assert sorted(m["To"].addresses[0].addr_spec for m in emails) == sorted(result.notified)
    languages = {p.email: p.language for p in PEOPLE}
    for message in emails:
        to = message["To"].addresses[0].addr_spec
        language = languages[to]
        assert str(message["Subject"]) == SUBJECTS[language][len(buddies[to]) > 1]
        assert "groups_changed groups:buddies#1" in message["X-Cohort-Delivery"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for buddy in buddies[to]:
            assert f"{names[buddy]} <{buddy}>" in text
            assert f'<a href="mailto:{buddy}">{buddy}</a>' in html


def test_moving_one_person_emails_the_mover_and_the_group_they_join(app, make_cohort,
                                                                     smtp_sink):
    """After the welcome named the buddies, one person is moved (confirmed): the mover and
    the people of the group they join each get one "new buddy" email; those they left, who
    gain nobody, get nothing."""
    engine = app.extensions["cohort.engine"]
    cohort_id = make_cohort(engine, people=PEOPLE).id
    send_due(app, now=CREATED)
    later = CREATED + timedelta(hours=2)
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        groups, target = view.result.rotations[0].groups, view.numbers[0][1]
        mover, left, joined = groups[0].members[0], groups[0].members[1:], groups[1].members
        move = services.group_changes.Move(mover, target)
        preview = services.group_changes.preview(session, cohort_id, "move", move=move)
        result = services.group_changes.apply(session, cohort_id, "move", move=move,
                                              now=later, confirmed=preview.fingerprint)
        names = services.participant_names(session, cohort_id)
    assert send_due(app, now=later).sent == 0  # the welcome went this morning
    before = smtp_sink.count()
    assert send_due(app, now=NEXT_MORNING).sent == 1 + len(joined)
    emails = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.messages[before:]}
    assert set(emails) == {mover, *joined} == set(result.notified)
    assert not set(emails) & set(left)
    text = emails[mover].get_body(("plain",)).get_content()
    assert all(f"{names[buddy]} <{buddy}>" in text for buddy in joined)


def test_a_notice_rides_in_the_email_the_person_still_has_coming_that_day(app, make_cohort,
                                                                           smtp_sink):
    """"Your new buddy" is a bundled kind: on a day when the person still has an email to
    come, the notice becomes a section of it, not a second email that day."""
    engine = app.extensions["cohort.engine"]
    cohort_id = make_cohort(engine, people=PEOPLE).id
    send_due(app, now=CREATED)
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        groups, target = view.result.rotations[0].groups, view.numbers[0][1]
        mover = groups[0].members[0]
        coming = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.recipient == mover,
            Delivery.state == "pending", Delivery.kind.in_(BUNDLED_KINDS),
        ).order_by(Delivery.send_at)).first()
        due, other = coming.send_at, f"{coming.kind} {coming.anchor}"
        move = services.group_changes.Move(mover, target)
        preview = services.group_changes.preview(session, cohort_id, "move", move=move)
        services.group_changes.apply(session, cohort_id, "move", move=move,
                                     now=due - timedelta(minutes=1),
                                     confirmed=preview.fingerprint)
        notice = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.recipient == mover,
            Delivery.kind == "groups_changed")).one()
        assert notice.send_at == due
    before = smtp_sink.count()
    send_due(app, now=due)
    to_mover = [m for m in smtp_sink.messages[before:]
                if m["To"].addresses[0].addr_spec == mover]
    assert len(to_mover) == 1
    header = to_mover[0]["X-Cohort-Delivery"]
    assert "groups_changed" in header and other in header
