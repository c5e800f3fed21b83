"""What participants receive, end to end against a real SMTP server (aiosmtpd on 127.0.0.1):
meeting emails with the calendar invitation attached, survey emails that open the survey,
reminders only to those who have not answered, and the calendar subscription in the welcome.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.app import create_app
from cohort.core.participants import ParticipantRow
from cohort.mail.compose import facilitator_address
from cohort.mail.dispatch import send_due
from cohort.models import Delivery, Meeting, Participant
from cohort.services import accounts
from tests.fixtures.cohorts import CREATED  # when make_cohort creates its cohorts
from tests.fixtures.ics import parse_both, parse_with_vobject
from tests.fixtures.paths import PROGRAMMES

PEOPLE = [
    ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Enhetsleder",
                   "nb"),
    ParticipantRow("Emma Smith", "emma@odense.example", "Odense Kommune", "Leader", "en"),
]
MAIL_FROM = "Kursussekretariatet <kursus@cohort.example>"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def app(database_url, tmp_path, monkeypatch, smtp_sink):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
        "PROGRAMMES_DIR": str(PROGRAMMES), "MAIL_URL": smtp_sink.url, "MAIL_FROM": MAIL_FROM,
        "BASE_URL": "https://cohort.example",
    })
    db.create_schema(app.extensions["cohort.engine"])
    yield app
    app.extensions["cohort.engine"].dispose()


def send(app, now: datetime) -> None:
    """One outbox pass (in an app context of its own: the test client's requests must not
    share one with it, or Flask-WTF would reuse a CSRF token cached in `g`)."""
    with app.app_context():
        send_due(app, now=now)


def engine(app):
    return app.extensions["cohort.engine"]


@pytest.fixture
def cohort_id(app, make_cohort) -> int:
    """The reference cohort (8 April 2025), owned by a facilitator account."""
    cohort = make_cohort(engine(app), people=PEOPLE, title="Digitalt Lederskab, hold 1")
    with db.transaction(engine(app)) as session:
        owner = accounts.create_user(session, "olga@kommune.example", "facilitator",
                                     "correct horse battery", name="Olga Ørsted")
        accounts.add_cohort_staff(session, cohort.id, owner)
        return cohort.id


def delivered(sink, kind: str, anchor: str, to: str | None = None) -> list:
    """The messages that carry this item (alone, or as a section of a bundle)."""
    return [m for m in sink.messages
            if f"{kind} {anchor}" in (item.split(" ", 1)[1]
                                      for item in m["X-Cohort-Delivery"].split("; "))
            and (to is None or m["To"].addresses[0].addr_spec == to)]


def calendar_of(message) -> tuple[str, bytes]:
    """The METHOD of the text/calendar alternative and the attached .ics (they must agree)."""
    alternative = next(message.iter_parts())
    (inline,) = [p for p in alternative.iter_parts() if p.get_content_type() == "text/calendar"]
    (attached,) = [p for p in message.iter_attachments()
                   if p.get_filename() and p.get_filename().endswith(".ics")]
    ics = attached.get_content()
    assert inline.get_content().encode("utf-8").replace(b"\r\n", b"\n") == \
        ics.replace(b"\r\n", b"\n")
    return inline.get_param("method"), ics


def event_of(ics: bytes) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    return event


def feed_uid(app, cohort_id: int, email: str, meeting_key: str) -> str:
    """The UID the participant's subscription feed gives the meeting."""
    with app.app_context(), db.transaction(engine(app)) as session:
        feed = services.participant_calendar(session, cohort_id, email).ics
        title = services.get_meeting(session, cohort_id, meeting_key).title
    return next(e.uid for e in parse_both(feed) if e.summary.endswith(title))


def test_meeting_emails_carry_request_and_cancel_invitations(app, cohort_id, smtp_sink):
    send(app, CREATED)
    (invitation,) = delivered(smtp_sink, "meeting_invitation", "meeting:webinar-2",
                              "soren@vejle.example")
    assert invitation["Content-Language"] == "da"
    method, ics = calendar_of(invitation)
    assert method == "REQUEST" and icalendar.Calendar.from_ical(ics)["METHOD"] == "REQUEST"
    (parsed,) = parse_both(ics)  # icalendar and vobject read the same event
    _, (seen_by_vobject,) = parse_with_vobject(ics)
    assert seen_by_vobject.local_start("Europe/Copenhagen") == datetime(2025, 6, 12, 13, 0)
    event = event_of(ics)
    with db.transaction(engine(app)) as session:
        webinar = services.get_meeting(session, cohort_id, "webinar-2")
    assert parsed.uid == webinar.uid == feed_uid(app, cohort_id, "soren@vejle.example",
                                                 "webinar-2")
    assert str(event["ORGANIZER"]) == "mailto:olga@kommune.example"
    assert event["ORGANIZER"].params["CN"] == "Olga Ørsted"
    assert str(event["ATTENDEE"]) == "mailto:soren@vejle.example"
    assert invitation["Reply-To"].addresses[0].addr_spec == "olga@kommune.example"

    moved_to = datetime(2025, 6, 19, 11, 0, tzinfo=UTC)
    with db.transaction(engine(app)) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-2", moved_to, None,
                                     now=CREATED)
        services.meetings.cancel_meeting(session, cohort_id, "webinar-3", None, now=CREATED)
    send(app, CREATED + timedelta(minutes=5))
    (update,) = [m for m in smtp_sink.to("soren@vejle.example")
                 if "meeting_update meeting:webinar-2" in m["X-Cohort-Delivery"]]
    method, ics = calendar_of(update)
    (moved,) = parse_both(ics)
    assert method == "REQUEST" and moved.uid == parsed.uid
    assert moved.sequence > parsed.sequence
    assert moved.local_start("Europe/Copenhagen") == datetime(2025, 6, 19, 13, 0)
    (cancellation,) = [m for m in smtp_sink.to("kari@bergen.example")
                       if "meeting_cancellation meeting:webinar-3" in m["X-Cohort-Delivery"]]
    method, ics = calendar_of(cancellation)
    (cancelled,) = parse_both(ics)
    assert method == "CANCEL" and icalendar.Calendar.from_ical(ics)["METHOD"] == "CANCEL"
    assert cancelled.status == "CANCELLED"
    assert cancelled.uid == feed_uid(app, cohort_id, "kari@bergen.example", "webinar-3")
    assert str(event_of(ics)["ATTENDEE"]) == "mailto:kari@bergen.example"
    # Other emails carry no calendar.
    (welcome,) = delivered(smtp_sink, "welcome", "cohort", "emma@odense.example")
    assert welcome.get_content_type() == "multipart/alternative"


def test_the_organizer_is_the_cohorts_facilitator_address(app, cohort_id, make_cohort, smtp_sink):
    """The address set for the cohort's emails, else the owner's, else COHORT_MAIL_FROM."""
    with db.transaction(engine(app)) as session:
        assert facilitator_address(session, cohort_id, MAIL_FROM) == \
            "Olga Ørsted <olga@kommune.example>"
        services.set_facilitator_email(session, cohort_id, "Hold 1 <hold1@kommune.example>")
        assert facilitator_address(session, cohort_id, MAIL_FROM) == \
            "Hold 1 <hold1@kommune.example>"
    ownerless = make_cohort(engine(app), people=PEOPLE[:1], title="Uden").id
    with db.transaction(engine(app)) as session:
        assert facilitator_address(session, ownerless, MAIL_FROM) == MAIL_FROM
    send(app, CREATED)
    organizers = {}
    for message in delivered(smtp_sink, "meeting_invitation", "meeting:kickoff",
                             "soren@vejle.example"):
        cohort = int(message["Message-ID"].split(".")[1])
        organizers[cohort] = str(event_of(calendar_of(message)[1])["ORGANIZER"])
    assert organizers == {cohort_id: "mailto:hold1@kommune.example",
                          ownerless: "mailto:kursus@cohort.example"}


def test_survey_email_opens_the_survey_and_reminders_skip_those_who_answered(
        app, cohort_id, smtp_sink):
    with db.transaction(engine(app)) as session:
        final = services.get_survey(session, cohort_id, "final")
    send(app, final.opens_at)
    (invitation,) = delivered(smtp_sink, "survey_invitation", "survey:final",
                              "soren@vejle.example")
    text = invitation.get_body(("plain",)).get_content()
    link = re.search(r"https://cohort\.example/p/\S+\?next=\S+", text).group(0)
    assert f'href="{link}"' in invitation.get_body(("html",)).get_content()
    # The participant follows the link: "continue", then straight to the survey.
    app.config["COHORT_NOW"] = final.opens_at + timedelta(hours=2)
    client = app.test_client()
    url = urlsplit(link)
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    response = client.post(f"{url.path}?{url.query}", data={
        "csrf_token": CSRF.search(page.get_data(as_text=True)).group(1),
        "next": f"/me/surveys/{final.id}"})
    assert response.headers["Location"] == f"/me/surveys/{final.id}"
    form = client.get(f"/me/surveys/{final.id}").get_data(as_text=True)
    answers = {f"q-{q}": "4" for q in ("new-tools", "network", "passed-on", "staff-engagement",
                                       "judge-technology", "language")}
    answered = client.post(f"/me/surveys/{final.id}", data={
        "csrf_token": CSRF.search(form).group(1), **answers, "q-most-useful": "4",
        "q-recommend": "8"})
    assert answered.status_code == 302

    first_reminder = datetime(2025, 10, 10, 7, 0, tzinfo=UTC)
    with db.transaction(engine(app)) as session:
        waiting = {p.email for p in services.pending_reminder_recipients(
            session, final.id, first_reminder)}
    send(app, first_reminder)
    reminded = {m["To"].addresses[0].addr_spec
                for m in delivered(smtp_sink, "survey_reminder", "survey:final#1")}
    assert reminded == waiting == {"kari@bergen.example", "emma@odense.example"}
    with db.transaction(engine(app)) as session:
        skipped = session.scalars(select(Delivery).where(
            Delivery.kind == "survey_reminder", Delivery.anchor == "survey:final#1",
            Delivery.recipient == "soren@vejle.example")).one()
    assert (skipped.state, skipped.last_error) == ("skipped", "skipped: already done")
    # The post self-assessment was not answered by anyone: everybody is reminded of it.
    assert len(delivered(smtp_sink, "survey_reminder", "survey:self-assessment-post#1")) == 3


def test_welcome_email_subscribes_to_the_participants_own_calendar(app, cohort_id, smtp_sink):
    send(app, CREATED)
    (welcome,) = delivered(smtp_sink, "welcome", "cohort", "kari@bergen.example")
    text = welcome.get_body(("plain",)).get_content()
    webcal = re.search(r"webcal://cohort\.example/calendar/[A-Za-z0-9_-]{43}\.ics", text).group(0)
    assert f'href="{webcal}"' in welcome.get_body(("html",)).get_content()
    app.config["COHORT_NOW"] = CREATED  # a feed answers while its cohort runs
    feed = app.test_client().get(urlsplit(webcal).path)
    assert feed.status_code == 200 and feed.content_type == "text/calendar; charset=utf-8"
    with app.app_context(), db.transaction(engine(app)) as session:
        kari = session.scalars(select(Participant).where(
            Participant.email == "kari@bergen.example")).one()
        own = services.participant_calendar(session, cohort_id, kari.email).ics
        meetings = session.scalars(select(Meeting.uid).where(Meeting.cohort_id == cohort_id)).all()
    assert feed.data == own
    assert set(meetings) <= {e.uid for e in parse_both(feed.data)}
    assert len({m["X-Cohort-Delivery"] for m in smtp_sink.messages}) == len(smtp_sink.messages)
