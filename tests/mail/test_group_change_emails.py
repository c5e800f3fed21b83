"""The "your new buddy" email through a real SMTP server: after the welcome named each buddy,
someone leaves and the groups are repaired (confirmed): those whose buddy changed get one
email in their language naming the new buddy; nobody else gets anything (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from tests.fixtures.cohorts import CREATED
from tests.fixtures.paths import PROGRAMMES

PEOPLE = [
    ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                   "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
    ParticipantRow("Mads Holm", "mads@aarhus.example", "Aarhus Kommune", "Leder", "da"),
    ParticipantRow("Lise Berg", "lise@kolding.example", "Kolding Kommune", "Leder", "da"),
    ParticipantRow("Ole Dahl", "ole@horsens.example", "Horsens Kommune", "Leder", "da"),
]
SUBJECTS = {"da": ("Din nye buddy i Buddyordning", "Dine nye buddyer i Buddyordning"),
            "nb": ("Din nye buddy i Buddyordning", "Dine nye buddyer i Buddyordning"),
            "en": ("Your new buddy in Buddyordning", "Your new buddies in Buddyordning")}


@pytest.fixture
def app(database_url, tmp_path, monkeypatch, smtp_sink):
    from cohort.app import create_app

    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES), "MAIL_URL": smtp_sink.url,
        "MAIL_FROM": "Cohort <kursus@cohort.example>", "BASE_URL": "https://cohort.example"})
    db.create_schema(app.extensions["cohort.engine"])
    with app.app_context():
        yield app
    app.extensions["cohort.engine"].dispose()


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
    before = smtp_sink.count()
    assert send_due(app, now=later).sent == len(result.notified)
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
    before = smtp_sink.count()
    assert send_due(app, now=later).sent == 1 + len(joined)
    emails = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.messages[before:]}
    assert set(emails) == {mover, *joined} == set(result.notified)
    assert not set(emails) & set(left)
    text = emails[mover].get_body(("plain",)).get_content()
    assert all(f"{names[buddy]} <{buddy}>" in text for buddy in joined)
