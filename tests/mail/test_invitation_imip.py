"""What the invitations of a whole programme look like on the wire, checked against iTIP/iMIP
(RFC 5545, 5546, 6047) rather than against Outlook, which cannot run here. The reasoning for
one email per meeting is in docs/calendar-invitations.md.

Through the real SMTP sink, each message read back with the standard library and the .ics with
two parsers (tests/fixtures/ics.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import icalendar
from sqlalchemy import select

from cohort import db, services
from cohort.mail.dispatch import send_due
from cohort.models import Meeting
from tests.fixtures.cohorts import CREATED
from tests.fixtures.ics import parse_both

from .test_dispatch import PEOPLE, engine
from .test_dispatch import app as app  # noqa: F401  (the fixture)


def calendar_parts(message) -> list:
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def imip(message) -> tuple[str, icalendar.Calendar, list]:
    """The one text/calendar part of an iMIP message: its method parameter, the calendar and
    its events (read by both parsers, which must agree)."""
    (part,) = calendar_parts(message)
    ics = part.get_content().encode("utf-8")
    return part.get_param("method"), icalendar.Calendar.from_ical(ics), parse_both(ics)


def test_each_meeting_is_its_own_request_with_a_stable_uid_and_sequence(app, make_cohort,
                                                                         smtp_sink):
    cohort_id = make_cohort(engine(app), people=PEOPLE).id
    send_due(app, now=CREATED)
    with db.transaction(engine(app)) as session:
        meetings = {m.uid: m for m in session.scalars(
            select(Meeting).where(Meeting.cohort_id == cohort_id))}
    uids: dict[str, set[str]] = defaultdict(set)
    for message in smtp_sink.messages:
        to = message["To"].addresses[0].addr_spec
        if "meeting_invitation" not in message["X-Cohort-Delivery"]:
            assert calendar_parts(message) == []  # no calendar in any other email
            continue
        # RFC 6047 2.4: text/calendar with a method parameter equal to METHOD; one object.
        method, calendar, events = imip(message)
        assert method == str(calendar["METHOD"]) == "REQUEST"
        # RFC 5546 3.2.2: one VEVENT (not a recurrence set), with organizer and attendee.
        (vevent,) = calendar.walk("VEVENT")
        (event,) = events
        assert event.uid in meetings and event.sequence == 0
        assert "DTSTAMP" in vevent and "ORGANIZER" in vevent
        assert str(vevent["ATTENDEE"]).lower() == f"mailto:{to}"
        # The layout Outlook itself sends (MS-OXCMAIL 2.1.3.3.8): the calendar as the last
        # alternative, not as an attachment, plus the same .ics as a file for other programs.
        (alternative,) = [p for p in message.walk()
                          if p.get_content_type() == "multipart/alternative"]
        assert [p.get_content_type() for p in alternative.iter_parts()] == [
            "text/plain", "text/html", "text/calendar"]
        assert calendar_parts(message)[0].get_content_disposition() != "attachment"
        (file,) = list(message.iter_attachments())
        assert file.get_content_type() == "application/ics"
        assert file.get_content().replace(b"\r\n", b"\n") == \
            calendar_parts(message)[0].get_content().encode().replace(b"\r\n", b"\n")
        uids[to].add(event.uid)
    # One email per meeting for everyone, the same UID for a meeting whoever gets it.
    assert all(found == set(meetings) for found in uids.values())
    assert set(uids) == {p.email for p in PEOPLE}

    # A move is a REQUEST with the same UID and SEQUENCE 1; a cancellation a CANCEL with 2.
    moved_to = datetime(2025, 5, 16, 11, 0, tzinfo=UTC)
    later = CREATED + timedelta(hours=1)
    with db.transaction(engine(app)) as session:
        services.meetings.reschedule(session, cohort_id, "webinar-1", moved_to, None,
                                     now=later)
        uid = services.get_meeting(session, cohort_id, "webinar-1").uid
    before = smtp_sink.count()
    send_due(app, now=later)
    with db.transaction(engine(app)) as session:
        services.meetings.cancel_meeting(session, cohort_id, "webinar-1", None, now=later)
    send_due(app, now=later + timedelta(minutes=1))
    notices = [m for m in smtp_sink.messages[before:] if calendar_parts(m)]
    assert len(notices) == 2 * len(PEOPLE)
    for message in notices:
        method, calendar, (event,) = imip(message)
        assert event.uid == uid and method == str(calendar["METHOD"])
        if "meeting_update" in message["X-Cohort-Delivery"]:
            assert (method, event.sequence, event.start) == ("REQUEST", 1, moved_to)
        else:
            assert (method, event.sequence, event.status) == ("CANCEL", 2, "CANCELLED")
