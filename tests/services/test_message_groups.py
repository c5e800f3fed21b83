"""Participants' emails name their buddies and team (issue 5 §3), from the stored groups."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.mail.compose import MailContext, message_data
from cohort.mail.preview import preview_message
from cohort.models import Delivery, Participant, Task

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CONTEXT = MailContext("https://cohort.example", "kurs@cohort.example", "secret", "cohort.example")
ROLES = ["Leder", "Ressursperson", "Ansatt i hjemmetjenesten"]


def _delivery(session, cohort_id: int, kind: str, email: str, anchor_prefix: str) -> Delivery:
    person = session.scalars(select(Participant).where(Participant.email == email)).one()
    return session.scalars(select(Delivery).where(
        Delivery.cohort_id == cohort_id, Delivery.kind == kind,
        Delivery.participant_id == person.id, Delivery.anchor.startswith(anchor_prefix))
        .order_by(Delivery.send_at)).first()


def test_welcome_names_buddies_and_team_and_the_buddy_task_only_buddies(app, make_cohort):
    engine = app.extensions["cohort.engine"]
    rows = [ParticipantRow(f"Person {i}", f"p{i}@kommune{i % 4}.example", f"Kommune {i % 4}",
                           ROLES[i % 3], "nb") for i in range(18)]
    cohort_id = make_cohort(engine, people=rows, programme="digital-helsekompetanse",
                            now=NOW).id
    with db.transaction(engine) as session:
        person = session.scalars(select(Participant).where(
            Participant.email == "p0@kommune0.example")).one()
        stored = {g.grouping_key: g for g in services.participant_groups(session, person.id)}
        welcome = message_data(session, _delivery(session, cohort_id, "welcome",
                                                  person.email, "cohort"), CONTEXT, NOW)
        buddy_task = session.scalars(select(Task).where(
            Task.cohort_id == cohort_id, Task.kind == "buddy_exchange")).first()
        other_task = session.scalars(select(Task).where(
            Task.cohort_id == cohort_id, Task.kind != "buddy_exchange")).first()
        task_mail = message_data(session, _delivery(
            session, cohort_id, "task_released", person.email, f"task:{buddy_task.key}"),
            CONTEXT, NOW)
        plain_mail = message_data(session, _delivery(
            session, cohort_id, "task_released", person.email, f"task:{other_task.key}"),
            CONTEXT, NOW)
    assert [(g.title, g.kind, g.rotation) for g in welcome.groups] == [
        ("Lærevenner", "buddy", 1), ("Praksisgrupper", "team", 1)]
    assert welcome.groups[0].partners == stored["laerevenner"].partners
    assert welcome.groups[1].partners == stored["praksisgrupper"].partners
    assert 3 <= len(welcome.groups[1].partners) <= 5
    assert person.email not in {email for g in welcome.groups for _, email in g.partners}
    assert [g.kind for g in task_mail.groups] == ["buddy"]
    assert plain_mail.groups == ()

    with app.app_context():
        text = preview_message(welcome.delivery_id, now=NOW).get_body(("plain",)).get_content()
    team = "\n".join(f"- {name} <{email}>" for name, email in welcome.groups[1].partners)
    assert f"Praksisgrupper – teamet ditt:\n{team}\n" in text.replace("\r\n", "\n")
    assert re.search(r"Lærevenner – buddy(en din|ene dine):", text)
