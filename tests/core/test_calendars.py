"""The calendar core on plain data: what Outlook, Google and friends need to stay right."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from cohort.core import calendars as ical
from cohort.core.planning import plan_cohort
from tests.fixtures.ics import calendar_from_plan, parse_both, unfold

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ZONE = "Europe/Copenhagen"
FACILITATOR = ical.Person("facilitator@cohort.example", "Fie Facilitator")
ANNE = ical.Person("anne@vejle.example", "Anne Ærø")


@pytest.fixture(scope="module")
def programme(library):
    return library.programmes["digital-lederskab"]


def feed(programme, start: date, **options) -> tuple[object, bytes]:
    plan = plan_cohort(programme, start, ZONE)
    data = calendar_from_plan(plan, programme, NOW, **options)
    return plan, ical.feed_ics(data)


def test_every_meeting_parses_back_at_its_planned_local_time(programme):
    plan, ics = feed(programme, date(2025, 4, 8))
    events = {e.uid: e for e in parse_both(ics)}
    meetings = [e for e in events.values() if isinstance(e.start, datetime)]
    assert [e.local_start(ZONE) for e in meetings] == [
        m.starts_at.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)
        for m in plan.meetings]
    assert [e.local_start(ZONE).time() for e in meetings] == [
        time(13), time(9), time(13), time(13), time(13), time(9), time(13)]
    assert len(events) == len(plan.meetings) + len(plan.tasks)


@pytest.mark.parametrize("start, change", [
    (date(2025, 3, 20), date(2025, 3, 30)),   # spring forward
    (date(2025, 9, 1), date(2025, 10, 26)),   # fall back
])
def test_meetings_on_both_sides_of_a_dst_change_keep_their_local_time(programme, start, change):
    plan, ics = feed(programme, start)
    webinars = [e for e in parse_both(ics) if "Webinar" in e.summary or "webinar" in e.summary]
    before = [e for e in webinars if e.start.date() < change]
    after = [e for e in webinars if e.start.date() > change]
    assert before and after
    assert {e.local_start(ZONE).time() for e in before + after} == {time(13)}
    summer, winter = timedelta(hours=2), timedelta(hours=1)
    expected_before, expected_after = (winter, summer) if change.month == 3 else (summer, winter)
    assert {e.start.utcoffset() for e in before} == {expected_before}
    assert {e.start.utcoffset() for e in after} == {expected_after}


def test_feed_header_refresh_and_one_vtimezone(programme):
    _, ics = feed(programme, date(2025, 4, 8))
    text = unfold(ics)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\n" in text
    assert "X-PUBLISHED-TTL:PT1H\n" in text
    assert "METHOD" not in text
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert "DTSTART;TZID=Europe/Copenhagen:20250408T130000\n" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n" in text


def test_feed_bytes_depend_only_on_the_data(programme):
    plan = plan_cohort(programme, date(2025, 4, 8), ZONE)
    data = calendar_from_plan(plan, programme, NOW)
    warm = ical.feed_ics(data)
    ical._meeting_ics.cache_clear()
    ical._task_ics.cache_clear()
    assert ical.feed_ics(data) == warm
    stamps = {line for line in unfold(warm).splitlines() if line.startswith("DTSTAMP")}
    assert stamps == {"DTSTAMP:20250301T090000Z"}
    moved = replace(data.meetings[3], sequence=1, starts_at=data.meetings[3].starts_at
                    + timedelta(hours=1), last_modified=NOW + timedelta(days=1))
    changed = ical.feed_ics(replace(data, meetings=[*data.meetings[:3], moved,
                                                    *data.meetings[4:]]))
    assert changed != warm
    assert "SEQUENCE:1\n" in unfold(changed) and "SEQUENCE:1\n" not in unfold(warm)


def test_description_has_themes_content_question_tasks_and_link(programme):
    _, ics = feed(programme, date(2025, 4, 8), online_url="https://meet.example/x")
    calendar = icalendar.Calendar.from_ical(ics)
    webinar = next(e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]).endswith("Webinar 1"))
    description = str(webinar["DESCRIPTION"])
    assert "Themes: Den digitalt kompetente medarbejder" in description
    assert "Content:\n- De psykologiske grundbehov\n- Aktiv og passiv brug" in description
    assert "Leading question: Hvordan fremmer du medarbejdernes" in description
    assert "To do before this meeting:\n- Erfaringsudveksling med din buddy (due Mon 12 May "\
           "16:00)" in description
    assert "Online: https://meet.example/x" in description
    assert str(webinar["LOCATION"]) == "https://meet.example/x"
    assert str(webinar["URL"]) == "https://meet.example/x"
    assert str(webinar["SUMMARY"]) == "Kompetencer til Digitalt Lederskab: Webinar 1"
    alarm = webinar.walk("VALARM")[0]
    assert alarm.decoded("TRIGGER") == -timedelta(days=1)


def test_in_person_meeting_has_location_but_no_url(programme):
    plan = plan_cohort(programme, date(2025, 4, 8), ZONE)
    data = calendar_from_plan(plan, programme, NOW)
    workshop = replace(data.meetings[1], location="Vejle Rådhus, lokale 3")
    data = replace(data, meetings=[workshop])
    event = icalendar.Calendar.from_ical(ical.feed_ics(data)).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Vejle Rådhus, lokale 3" and "URL" not in event


def test_task_deadlines_are_all_day_and_do_not_block_the_day(programme):
    plan, ics = feed(programme, date(2025, 4, 8))
    calendar = icalendar.Calendar.from_ical(ics)
    choose_case = next(e for e in calendar.walk("VEVENT") if "Vælg din case" in e["SUMMARY"])
    assert str(choose_case["SUMMARY"]) == "Deadline 12:00: Vælg din case"
    assert choose_case.decoded("DTSTART") == date(2025, 4, 16)
    assert choose_case.decoded("DTEND") == date(2025, 4, 17)
    assert str(choose_case["TRANSP"]) == "TRANSPARENT"


def test_cancelled_meeting_stays_in_the_feed_as_cancelled(programme):
    plan, ics = feed(programme, date(2025, 4, 8), cancelled=frozenset({"webinar-2"}))
    events = parse_both(ics)
    cancelled = [e for e in events if e.status == "CANCELLED"]
    assert [e.summary for e in cancelled] == [
        "Cancelled: Kompetencer til Digitalt Lederskab: Webinar 2"]
    calendar = icalendar.Calendar.from_ical(ics)
    event = next(e for e in calendar.walk("VEVENT") if e.get("STATUS") == "CANCELLED")
    assert not event.walk("VALARM")


def test_invitation_request_then_update_then_cancel_share_the_uid(programme):
    plan = plan_cohort(programme, date(2025, 4, 8), ZONE)
    data = calendar_from_plan(plan, programme, NOW)
    meeting = data.meetings[2]
    first = ical.invitation(meeting, data, FACILITATOR, ANNE, NOW)
    moved = replace(meeting, sequence=1, starts_at=meeting.starts_at + timedelta(days=7),
                    ends_at=meeting.ends_at + timedelta(days=7))
    update = ical.invitation(moved, data, FACILITATOR, ANNE, NOW + timedelta(days=1))
    gone = ical.invitation(replace(moved, sequence=2, cancelled=True), data, FACILITATOR, ANNE,
                           NOW + timedelta(days=2))
    assert (first.method, update.method, gone.method) == ("REQUEST", "REQUEST", "CANCEL")
    assert gone.content_type == "text/calendar; method=CANCEL; charset=utf-8"
    parsed = [parse_both(message.ics) for message in (first, update, gone)]
    assert {events[0].uid for events in parsed} == {meeting.uid}
    assert [events[0].sequence for events in parsed] == [0, 1, 2]
    assert [events[0].status for events in parsed] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert parsed[1][0].start - parsed[0][0].start == timedelta(days=7)
    text = unfold(first.ics)
    assert "METHOD:REQUEST\n" in text
    assert 'ORGANIZER;CN="Fie Facilitator":mailto:facilitator@cohort.example\n' in text
    assert ('ATTENDEE;CN="Anne Ærø";CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;'
            "ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:anne@vejle.example\n") in text
    assert "DTSTAMP:20250301T090000Z\n" in text
    assert "METHOD:CANCEL\n" in unfold(gone.ics) and "STATUS:CANCELLED\n" in unfold(gone.ics)


def whole_invitation(meeting, data, organizer, attendee, now) -> bytes:
    """The invitation built in one go with icalendar, the attendee added like the organizer."""
    calendar = ical._calendar_shell()
    calendar.add("method", "CANCEL" if meeting.cancelled else "REQUEST")
    calendar.add_component(ical.vtimezone(data.timezone, meeting.starts_at, meeting.ends_at))
    event = ical._meeting_event(meeting, ical._summary(meeting, data), data.timezone, data.text,
                                now)
    event.add("organizer", ical._address(organizer, organizer=True))
    event.add("attendee", ical._address(attendee, organizer=False))
    calendar.add_component(event)
    return calendar.to_ical()


@pytest.mark.parametrize("attendee", [
    ANNE, ical.Person("bo@vejle.example", ""),
    ical.Person("long.address.of.someone@region-syddanmark.example",
                'Åse "Aasen", Østergaard-Ærenlund Lind Brøndum von Sønderborg-Christiansen'),
])
def test_an_invitation_made_once_and_completed_per_attendee_is_the_whole_one(programme,
                                                                            attendee):
    """The outbox makes a meeting's invitation once per batch and adds each attendee: byte
    for byte what building it whole for that attendee gives."""
    plan = plan_cohort(programme, date(2025, 4, 8), ZONE)
    data = calendar_from_plan(plan, programme, NOW)
    shared = [ical.invitation_to_all(meeting, data, FACILITATOR, NOW)
              for meeting in (data.meetings[2], replace(data.meetings[3], cancelled=True))]
    for meeting, to_all in zip((data.meetings[2], replace(data.meetings[3], cancelled=True)),
                               shared, strict=True):
        completed = ical.with_attendee(to_all, attendee)
        assert completed.ics == whole_invitation(meeting, data, FACILITATOR, attendee, NOW)
        assert completed == ical.invitation(meeting, data, FACILITATOR, attendee, NOW)
        assert attendee.email.encode() not in to_all.ics


def test_task_uid_is_stable_and_distinct():
    meeting_uid = ical.new_uid()
    assert ical.task_uid(meeting_uid, "a@b") == ical.task_uid(meeting_uid, "a@b")
    assert ical.task_uid(meeting_uid, "a@b") != ical.task_uid(meeting_uid, "a@c")
    assert ical.task_uid(meeting_uid, "a@b") != ical.task_uid(ical.new_uid(), "a@b")


def test_danish_text_and_dates():
    text = ical.CalendarText(language="da", themes="Temaer", due="frist %(time)s")
    when = datetime(2025, 4, 16, 10, 0, tzinfo=UTC)
    meeting = ical.CalendarMeeting(
        uid=ical.new_uid(), sequence=0, title="Workshop 1", starts_at=when,
        ends_at=when + timedelta(hours=1), last_modified=NOW, themes=("Forståelsesrammer",),
        tasks_due=(ical.DueTask("Vælg din case", when),))
    data = ical.CohortCalendar("Hold 1", "Digitalt Lederskab", ZONE, [meeting], text=text)
    description = str(icalendar.Calendar.from_ical(
        ical.feed_ics(data)).walk("VEVENT")[0]["DESCRIPTION"])
    assert "Temaer: Forståelsesrammer" in description
    assert "- Vælg din case (frist ons. 16 apr. 12:00)" in description


def test_lines_are_crlf_and_folded_at_75_octets(programme):
    _, ics = feed(programme, date(2025, 4, 8), online_url="https://meet.example/" + "x" * 120)
    assert ics.endswith(b"\r\n")
    lines = ics.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
