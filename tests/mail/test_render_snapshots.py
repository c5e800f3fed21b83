"""Snapshots of the rendered emails: every kind in Danish, some in Norwegian and English.

A change to an email's wording or layout shows up here as a diff. After a deliberate change,
regenerate with `UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/mail/test_render_snapshots.py`
and review the diff of tests/snapshots/emails/ before committing.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.mail.dispatch import send_due
from cohort.models import Delivery, Participant, Prompt
from cohort.services import materials
from tests.fixtures import materials as files
from tests.fixtures.cohorts import CREATED  # when make_cohort creates its cohorts
from tests.fixtures.paths import PROGRAMMES

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "emails"
PEOPLE = [
    ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                   "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
]
CASES = [  # (kind, anchor, recipient)
    ("welcome", "cohort", "soren@vejle.example"),
    ("welcome", "cohort", "kari@bergen.example"),
    ("meeting_invitation", "meeting:workshop-1", "soren@vejle.example"),
    ("meeting_invitation", "meeting:workshop-1", "emma@odense.example"),
    ("meeting_update", "meeting:webinar-2#1", "soren@vejle.example"),
    ("meeting_cancellation", "meeting:webinar-3#1", "kari@bergen.example"),
    ("task_released", "task:choose-case", "soren@vejle.example"),
    ("task_reminder", "task:choose-case", "soren@vejle.example"),
    ("task_released", "task:buddy-exchange@workshop-1", "kari@bergen.example"),  # names buddies
    ("prompt", "prompt:leading-question@webinar-1", "soren@vejle.example"),
    ("survey_invitation", "survey:meeting-evaluation@kickoff", "soren@vejle.example"),
    ("survey_reminder", "survey:meeting-evaluation@kickoff#1", "emma@odense.example"),
    ("facilitator_digest", "meeting:workshop-1", "facilitator"),
]
LINK = re.compile(r"https://cohort\.example/p/[A-Za-z0-9_-]{43}")
DTSTAMP = re.compile(rb"DTSTAMP:\d{8}T\d{6}Z")
FEED = re.compile(r"webcal://cohort\.example/calendar/[A-Za-z0-9_-]{43}\.ics")


@pytest.fixture(scope="module")
def outbox(tmp_path_factory, make_cohort):
    """One cohort with every kind of delivery in it (SQLite: the text does not depend on it)."""
    from cohort.app import create_app

    folder = tmp_path_factory.mktemp("snapshots")
    os.environ.setdefault("COHORT_INSTANCE_PATH", str(folder / "instance"))
    app = create_app({
        "DATABASE_URL": f"sqlite:///{folder / 'cohort.sqlite3'}", "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES), "MAIL_URL": f"file://{folder / 'mail'}",
        "MAIL_FROM": "Kursussekretariatet <kursus@cohort.example>",
        "BASE_URL": "https://cohort.example",
    })
    engine = app.extensions["cohort.engine"]
    db.create_schema(engine)
    with app.app_context():
        cohort = make_cohort(engine, people=PEOPLE, title="Digitalt Lederskab, hold 1")
        send_due(app, now=CREATED)  # invitations sent, so changes queue notices
        with db.transaction(engine) as session:
            services.meetings.reschedule(session, cohort.id, "webinar-2",
                                         datetime(2025, 6, 19, 11, 0, tzinfo=UTC), None,
                                         now=CREATED)
            services.meetings.cancel_meeting(session, cohort.id, "webinar-3", None,
                                             now=CREATED)
            soren = session.scalars(select(Participant).where(
                Participant.email == "soren@vejle.example")).one()
            prompt = session.scalars(select(Prompt).where(
                Prompt.key == "after-meeting@kickoff")).one()
            services.answer_prompt(session, soren, prompt.id,
                                   "Jeg vil prøve at lade teamet vælge næste skridt.",
                                   prompt.send_at + timedelta(hours=2))
            # Workshop 1's materials: a link and a file in its emails (as links), and slides
            # for after the meeting, which its invitation does not mention.
            store = materials.MaterialStore(app.config["MATERIALS_DIR"])
            materials.add_link(session, cohort.id, "workshop-1", "Forberedelse: kort video",
                               "https://video.example/forberedelse", False, None, CREATED)
            materials.add_file(session, store, cohort.id, "workshop-1", "", "Øvelser.pdf",
                               files.PDF, False, 1024 * 1024, None, CREATED)
            materials.add_file(session, store, cohort.id, "workshop-1", "Slides", "s.pptx",
                               files.PPTX, True, 1024 * 1024, None, CREATED)
        yield app
    engine.dispose()


def snapshot_text(message) -> str:
    def body(kind: str) -> str:
        text = message.get_body((kind,)).get_content().replace("\r\n", "\n")
        text = FEED.sub("webcal://cohort.example/calendar/<feed-token>.ics", text)
        return LINK.sub("https://cohort.example/p/<personal-token>", text)

    headers = "\n".join(f"{name}: {message[name]}" for name in
                        ("From", "To", "Reply-To", "Subject", "Content-Language")
                        if message[name] is not None)
    return f"{headers}\n\n--- text/plain ---\n{body('plain')}\n--- text/html ---\n{body('html')}"


def composed(outbox, kind: str, anchor: str, recipient: str):
    """The outbox's settings, the delivery and its message data, composed as the outbox
    composes them (in a transaction of their own; the caller holds the app context)."""
    from cohort.mail.compose import message_data
    from cohort.mail.dispatch import OutboxSettings

    settings = OutboxSettings.from_app(outbox)
    with db.transaction(outbox.extensions["cohort.engine"]) as session:
        delivery = session.scalars(select(Delivery).where(
            Delivery.kind == kind, Delivery.anchor == anchor,
            Delivery.recipient == recipient)).one()
        data = message_data(session, delivery, settings.context, delivery.send_at)
    return settings, delivery, data


@pytest.mark.parametrize(("kind", "anchor", "recipient"), CASES,
                         ids=[f"{k}-{r.split('@')[0]}" for k, _, r in CASES])
def test_rendered_email_matches_snapshot(outbox, kind, anchor, recipient):
    """What the participant receives (composed as the outbox composes it, real links and all:
    a preview shows placeholders instead, see test_preview_credentials.py)."""
    from cohort.mail.render import build_message

    with outbox.app_context():
        settings, delivery, data = composed(outbox, kind, anchor, recipient)
        message = build_message(data, delivery.sent_at or delivery.send_at, settings.mail_from)
    actual = snapshot_text(message)
    path = SNAPSHOTS / f"{kind}.{recipient.split('@')[0]}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


def test_a_survey_repeated_for_each_meeting_names_the_meeting_in_its_emails(outbox):
    """Every meeting's evaluation is called "Evaluering af mødet": its invitation and reminder
    say which meeting they ask about, as the participant's page does; a survey of its own
    keeps its title."""
    from cohort.mail.render import build_message

    subjects = {}
    with outbox.app_context():
        for kind, anchor in (("survey_invitation", "survey:meeting-evaluation@kickoff"),
                             ("survey_invitation", "survey:meeting-evaluation@workshop-1"),
                             ("survey_reminder", "survey:meeting-evaluation@workshop-1#1"),
                             ("survey_invitation", "survey:final")):
            settings, delivery, data = composed(outbox, kind, anchor, "soren@vejle.example")
            message = build_message(data, delivery.send_at, settings.mail_from)
            subjects[anchor] = str(message["Subject"])
            if anchor.endswith("#1"):
                assert "Evaluering af mødet: Workshop 1 er åben" in \
                    message.get_body(("plain",)).get_content()
    assert subjects == {
        "survey:meeting-evaluation@kickoff":
            "Giv os dit svar: Evaluering af mødet: Kick-off-webinar",
        "survey:meeting-evaluation@workshop-1":
            "Giv os dit svar: Evaluering af mødet: Workshop 1",
        "survey:meeting-evaluation@workshop-1#1": "Påmindelse: Evaluering af mødet: Workshop 1",
        "survey:final": "Giv os dit svar: Afsluttende evaluering af forløbet"}


@pytest.mark.parametrize(("kind", "anchor", "recipient"), CASES,
                         ids=[f"{k}-{r.split('@')[0]}" for k, _, r in CASES])
def test_the_outbox_writes_the_same_message_as_the_email_package(outbox, kind, anchor,
                                                                  recipient):
    """The outbox writes messages out itself (fast); parsed back they say exactly what the
    email package's version says, also for names and subjects that need quoting or folding."""
    from dataclasses import replace
    from email import message_from_bytes
    from email.policy import default

    from cohort.mail.render import build_message, build_outgoing

    with outbox.app_context():
        settings, delivery, data = composed(outbox, kind, anchor, recipient)
        variants = [data, replace(data, to_name='Åse "Aasen", Østergaard-Ærenlund Lind Brøndum '
                                               'von Sønderborg-Christiansen',
                                  cohort_title="Digitalt Lederskab i Sundhedsvæsenet: "
                                               "hold 1 for ledere på tværs af kommunerne " * 2),
                    replace(data, to_name="Anne Smith, Jr.")]
        for variant in variants:
            expected = build_message(variant, delivery.send_at, settings.mail_from)
            outgoing = build_outgoing(variant, delivery.send_at, settings.mail_from)
            raw = bytes(outgoing)
            assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
            assert max(len(line) for line in raw.split(b"\r\n")) <= 78, [
                line for line in raw.split(b"\r\n") if len(line) > 78]
            assert outgoing.recipients == [variant.to_address]
            parsed = message_from_bytes(raw, policy=default)
            reference = message_from_bytes(bytes(expected), policy=default)
            for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID",
                         "Auto-Submitted", "X-Auto-Response-Suppress", "X-Cohort-Delivery",
                         "Content-Language", "MIME-Version"):
                if name in ("To", "From", "Reply-To"):
                    # Python's parser puts a space where a long display name is split into
                    # several encoded words (the email package's version too, at another
                    # place): compare those without spaces.
                    assert str(parsed[name]).replace(" ", "") == \
                        str(reference[name]).replace(" ", ""), name
                else:
                    assert str(parsed[name]) == str(reference[name]), name
            assert parsed.get_content_type() == reference.get_content_type()
            assert [p.get_content_type() for p in parsed.walk()] == \
                [p.get_content_type() for p in reference.walk()]
            for part in ("plain", "html"):
                assert parsed.get_body((part,)).get_content() == \
                    reference.get_body((part,)).get_content()
                assert parsed.get_body((part,))["Content-Transfer-Encoding"] == \
                    "quoted-printable"
            # Meeting emails: the text/calendar alternative and the .ics file, byte for byte
            # apart from DTSTAMP (the moment each was made).
            calendars = [[(p.get_content_type(), p.get_params(), p.get_filename(),
                           DTSTAMP.sub(b"", p.get_payload(decode=True)))
                          for p in message.walk() if p.get_content_type() in
                          ("text/calendar", "application/ics")]
                         for message in (parsed, reference)]
            assert calendars[0] == calendars[1]
            assert bool(calendars[0]) == kind.startswith("meeting_")


@pytest.mark.parametrize(("kind", "anchor", "recipient"), CASES,
                         ids=[f"{k}-{r.split('@')[0]}" for k, _, r in CASES])
def test_rendering_once_per_shape_gives_each_recipient_their_own_text(outbox, kind, anchor,
                                                                      recipient):
    from dataclasses import replace

    from cohort.mail.compose import MessageData
    from cohort.mail.render import render, render_directly

    with outbox.app_context():
        settings, delivery, data = composed(outbox, kind, anchor, recipient)
        if kind == "welcome":
            assert data.calendar_url and data.groups  # personal parts this test varies
        if kind.startswith("survey_"):
            assert data.survey.url

        def for_someone_else(name: str | None) -> MessageData:
            link = f"https://cohort.example/p/{name[:3]}&x=<1>" if name else None
            return replace(
                data, greeting_name=name, to_name=name or "", personal_url=link,
                calendar_url=f"webcal://cohort.example/calendar/{name[:2]}<&>.ics"
                if name and data.calendar_url else None,
                survey=replace(data.survey, url=f"{link}?next=%2Fme" if link else None)
                if data.survey else None,
                groups=data.groups[:0] if name == "Bo Holm" else data.groups)

        others = [for_someone_else(name) for name in ('Åse <b>"Aasen"</b> & Co', "Bo Holm", None)]
        for variant in [data, *others, data]:  # later ones come from the cache
            assert render(variant) == render_directly(variant)
        if data.greeting_name:  # a participant's email: nobody gets someone else's text
            assert len({render(variant).text for variant in [data, *others]}) == 4


@pytest.mark.parametrize(("kind", "anchor", "recipient"), CASES,
                         ids=[f"{k}-{r.split('@')[0]}" for k, _, r in CASES])
def test_rendering_reads_no_database(outbox, kind, anchor, recipient):
    """Composing gathers everything an email carries, the meeting's .ics included; writing the
    message out afterwards runs not one SQL statement, on any engine."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from cohort.mail import render as emails
    from cohort.mail.compose import message_data
    from cohort.mail.dispatch import OutboxSettings

    settings = OutboxSettings.from_app(outbox)
    with outbox.app_context():
        with db.transaction(outbox.extensions["cohort.engine"]) as session:
            delivery = session.scalars(select(Delivery).where(
                Delivery.kind == kind, Delivery.anchor == anchor,
                Delivery.recipient == recipient)).one()
            data = message_data(session, delivery, settings.context, delivery.send_at)
        emails._render_shape.cache_clear()  # every template rendered, not taken from the cache
        statements = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(Engine, "before_cursor_execute", count)
        try:
            message = emails.build_message(data, delivery.send_at, settings.mail_from)
            outgoing = emails.build_outgoing(data, delivery.send_at, settings.mail_from)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
    assert statements == []
    attachments = [p.get_payload(decode=True) for p in message.walk()
                   if p.get_content_type() == "application/ics"]
    if kind.startswith("meeting_"):  # the participant's meeting emails carry the meeting
        assert attachments == [data.calendar.ics]
        method = "CANCEL" if kind == "meeting_cancellation" else "REQUEST"
        assert data.calendar.method == method and f"METHOD:{method}".encode() in data.calendar.ics
        assert f"mailto:{recipient}".encode() in data.calendar.ics.replace(b"\r\n ", b"")
        assert b"Content-Type: application/ics" in bytes(outgoing)
    else:
        assert data.calendar is None and attachments == []


HOSTILE = "Eve\r\nBcc: victim@evil.example\r\n\r\nInjected body\x00\u2028X-Evil: 1"


@pytest.mark.parametrize(("kind", "anchor", "recipient"), CASES[:3],
                         ids=[f"{k}-{r.split('@')[0]}" for k, _, r in CASES[:3]])
def test_no_stored_name_or_title_can_add_a_header_line(outbox, kind, anchor, recipient):
    """A CR/LF (or NUL, or a Unicode line separator) in a participant's name, the cohort's
    title or the facilitator's name is written as a space: no Bcc: header, no early body, in
    both writers, and the email package (the preview) does not refuse the message."""
    from dataclasses import replace
    from email import message_from_bytes
    from email.policy import default

    from cohort.mail.render import build_message, build_outgoing

    with outbox.app_context():
        settings, delivery, data = composed(outbox, kind, anchor, recipient)
        data = replace(data, to_name=HOSTILE, greeting_name=HOSTILE, cohort_title=HOSTILE,
                       reply_to=f'"Fac{HOSTILE}" <facilitator@cohort.example>')
        messages = [bytes(build_message(data, delivery.send_at, settings.mail_from)),
                    bytes(build_outgoing(data, delivery.send_at, settings.mail_from))]
    for raw in messages:
        head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
        names = [line.split(b":", 1)[0] for line in head.split(b"\r\n")]
        assert b"Bcc" not in names and b"X-Evil" not in names and b"Injected body" not in names
        parsed = message_from_bytes(raw, policy=default)
        assert parsed["Bcc"] is None and parsed.defects == []
        assert parsed["To"].addresses[0].display_name == \
            "Eve Bcc: victim@evil.example Injected body X-Evil: 1"
        assert parsed["To"].addresses[0].addr_spec == recipient
        assert parsed["Reply-To"].addresses[0].addr_spec == "facilitator@cohort.example"
        if kind == "welcome":
            assert "Eve Bcc: victim@evil.example Injected body X-Evil: 1" in parsed["Subject"]
