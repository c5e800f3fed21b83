"""The welcome of someone who joins a running cohort, end to end against a real SMTP server
(aiosmtpd): it lists what was released before they joined and the outbox skips for them
(core/joining.py), in their language, with their page; the preview says the same while the
outbox is paused; nobody else's emails change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cohort import db
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.mail.preview import preview_message
from cohort.models import Delivery, Task
from cohort.services.deliveries import set_paused
from cohort.services.participants import add_participant

FIRST = ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da")
LATE = ParticipantRow("Ny Deltager", "ny@vejle.example", "Vejle Kommune", "Leder", "da")
# Monday after the kick-off (8 April 2025), in working hours: the kick-off's tasks and
# questions went out on the 9th (more than the outbox's 72 hours ago), its evaluation is open
# until the 15th, the self-assessment before the programme closed on the 8th.
JOINED = datetime(2025, 4, 14, 9, 0, tzinfo=UTC)
HEADING = {"da": "Allerede sendt ud, før du kom med", "nb": "Allerede sendt ut før du ble med",
           "en": "Already released before you joined"}


@pytest.fixture
def app(mailing_app):
    """The real SMTP sink's app (tests/fixtures/smtp.py)."""
    return mailing_app


def engine(app):
    return app.extensions["cohort.engine"]


@pytest.fixture
def cohort_id(app, make_cohort) -> int:
    """The reference cohort with one participant, whose emails up to JOINED went out."""
    cohort_id = make_cohort(engine(app), people=[FIRST]).id
    with db.transaction(engine(app)) as session:
        session.execute(update(Delivery).where(Delivery.send_at <= JOINED).values(
            state="sent", sent_at=Delivery.send_at))
    return cohort_id


def send(app, now: datetime) -> None:
    with app.app_context():
        send_due(app, now=now)


def rows_of(app, email: str) -> dict[tuple[str, str], Delivery]:
    with db.read_session(engine(app)) as session:
        return {(r.kind, r.anchor): r for r in session.scalars(
            select(Delivery).where(Delivery.recipient == email))}


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def items_of(message) -> list[str]:
    """The lines of the welcome's part between its heading and the next meeting."""
    text = plain(message)
    start = text.index(HEADING[message["Content-Language"]])
    part = text[start:].split("\n\n")
    return [line for block in part[2:] for line in block.splitlines()
            if line.startswith("- ")]


def test_a_late_joiners_welcome_lists_what_was_skipped_for_them(app, cohort_id, smtp_sink):
    with db.transaction(engine(app)) as session:
        add_participant(session, cohort_id, LATE, None, now=JOINED)
    send(app, JOINED)
    mine = [m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == LATE.email]
    # No extra email: the welcome and the invitations of the meetings to come, as before.
    assert sorted({m["X-Cohort-Delivery"].split(" ")[1] for m in mine}) == [
        "meeting_invitation", "welcome"]
    (welcome,) = [m for m in mine if "welcome" in m["X-Cohort-Delivery"]]
    text = plain(welcome)
    assert HEADING["da"] in text and HEADING["da"] in html(welcome)
    rows = rows_of(app, LATE.email)
    with db.read_session(engine(app)) as session:
        tasks = {t.key: t for t in session.scalars(select(Task).where(
            Task.cohort_id == cohort_id))}
    skipped = sorted(tasks[key.removeprefix("task:")].title
                     for (kind, key), row in rows.items()
                     if kind == "task_released" and row.state == "skipped")
    assert skipped  # the kick-off's tasks, days old when they joined
    listed = items_of(welcome)
    assert sorted(line.removeprefix("- Opgave: ").split(" (senest")[0]
                  for line in listed if line.startswith("- Opgave: ")) == skipped
    assert "- Opgave: Vælg din case (senest onsdag den 16. april 2025 kl. 12:00)" in listed
    # The kick-off's evaluation is still open; the self-assessment before the start is not.
    assert rows["survey_invitation", "survey:meeting-evaluation@kickoff"].state == "skipped"
    assert "- Spørgeskema: Evaluering af mødet (åbent indtil tirsdag den 15. april 2025 " \
        "kl. 15:00)" in listed
    assert rows["survey_invitation", "survey:self-assessment-pre"].state == "skipped"
    assert "Selvvurdering" not in text
    assert any(line.startswith("- Refleksionsspørgsmål: ") for line in listed)
    assert "Næste møde: Workshop 1, torsdag den 17. april 2025 kl. 09:00" in text
    # Their own page, in the part itself.
    part = text[text.index(HEADING["da"]):text.index("Mellem møderne")]
    assert "Din personlige side: https://cohort.example/p/" in part
    # Who was there from the start got no email in this pass.
    assert not [m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == FIRST.email]


def test_a_welcome_at_the_start_has_no_such_part(app, make_cohort, smtp_sink):
    make_cohort(engine(app), people=[FIRST])
    send(app, datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    (welcome,) = [m for m in smtp_sink.messages if "welcome" in m["X-Cohort-Delivery"]]
    assert HEADING["da"] not in plain(welcome) and HEADING["da"] not in html(welcome)


def test_the_preview_of_a_paused_outbox_says_what_the_welcome_will_say(
        app, cohort_id, smtp_sink):
    """The facilitator holds the outbox: nothing goes, nothing is skipped yet, and the preview
    of the late joiner's welcome already lists what the outbox will skip when it runs."""
    kari = ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Leder",
                          "nb")
    with db.transaction(engine(app)) as session:
        set_paused(session, cohort_id, True, JOINED)
        add_participant(session, cohort_id, kari, None, now=JOINED)
    later = JOINED + timedelta(hours=2)
    send(app, later)
    assert not smtp_sink.messages
    rows = rows_of(app, kari.email)
    assert {r.state for r in rows.values()} == {"pending", "skipped"}  # the policy's own skips
    assert rows["task_released", "task:choose-case"].state == "pending"
    with app.app_context():
        preview = preview_message(rows["welcome", "cohort"].id, now=later, app=app)
    assert preview["Content-Language"] == "nb"
    assert HEADING["nb"] in plain(preview)
    shown = items_of(preview)
    assert any(line.startswith("- Oppgave: ") for line in shown)
    with db.transaction(engine(app)) as session:
        set_paused(session, cohort_id, False, later)
    send(app, later)
    (welcome,) = [m for m in smtp_sink.messages if "welcome" in m["X-Cohort-Delivery"]]
    assert items_of(welcome) == shown
    assert rows_of(app, kari.email)["task_released", "task:choose-case"].state == "skipped"
