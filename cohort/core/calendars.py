"""A cohort's meetings (and a participant's task deadlines) as RFC 5545 iCalendar.

Pure: plain data in, .ics bytes out; no app, no database, an explicit `now`.

What keeps calendars right in Outlook and Google when a webinar moves:
- every meeting has a UID that never changes (stored on the meeting, a UUID, so it is unique
  across installations) and a SEQUENCE that goes up with every change of time, place or status,
  so clients update the event instead of adding a second one;
- times are written in the cohort's zone with a TZID and one VTIMEZONE in the RRULE form
  (see `vtimezone`), so a 13:00 webinar stays at 13:00 on both sides of a DST change;
- cancelled meetings stay in feeds with STATUS:CANCELLED, so subscribers see them go.

Feeds carry no METHOD, so DTSTAMP is the event's last revision (RFC 5545 3.8.7.2) and the
same data always gives the same bytes, which is what lets the feed answer 304. Invitations
(METHOD:REQUEST/CANCEL) stamp the time they are made.

icalendar is imported where a component is built (here, in `vtimezone` and `ical_lines` alike):
the models and most services import this module for `new_uid` and its data classes, and every
`cohort` command would otherwise load icalendar at start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from .ical_lines import component_ics
from .vtimezone import vtimezone, vtimezone_ics

if TYPE_CHECKING:
    from icalendar import Alarm, Calendar, Event, vCalAddress

PRODID = "-//Cohort//Cohort calendars//EN"
REFRESH_INTERVAL = timedelta(hours=1)
REMINDER_BEFORE = timedelta(days=1)
REQUEST = "REQUEST"
CANCEL = "CANCEL"


@dataclass(frozen=True)
class CalendarText:
    """The words a calendar shows, already translated by the caller (core has no gettext)."""

    language: str = "en"
    themes: str = "Themes"
    content: str = "Content"
    question: str = "Leading question"
    tasks_due: str = "To do before this meeting"
    due: str = "due %(time)s"
    online: str = "Online"
    reminder: str = "Tomorrow: %(title)s"
    cancelled: str = "Cancelled: %(title)s"
    task_due: str = "Deadline %(time)s: %(title)s"


@dataclass(frozen=True)
class DueTask:
    """A task as a meeting's description lists it."""

    title: str
    due_at: datetime


@dataclass(frozen=True)
class CalendarMeeting:
    """One meeting as a calendar needs it; datetimes are aware (any zone)."""

    uid: str
    sequence: int
    title: str
    starts_at: datetime
    ends_at: datetime
    last_modified: datetime
    location: str | None = None
    online_url: str | None = None
    cancelled: bool = False
    themes: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    question: str = ""
    tasks_due: tuple[DueTask, ...] = ()
    key: str = ""  # the cohort's name for it (not written to the file)


@dataclass(frozen=True)
class CalendarTask:
    """A task deadline in a participant's calendar: an all-day entry on the due date."""

    uid: str
    sequence: int
    title: str
    description: str
    due_at: datetime
    last_modified: datetime
    key: str = ""  # the cohort's name for it (not written to the file)


@dataclass(frozen=True)
class CohortCalendar:
    """Everything one calendar file shows."""

    name: str
    programme_title: str
    timezone: str
    meetings: Sequence[CalendarMeeting]
    tasks: Sequence[CalendarTask] = ()
    text: CalendarText = field(default_factory=CalendarText)


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class CalendarMessage:
    """An iTIP message (RFC 5546) to attach to an email as text/calendar."""

    method: str
    ics: bytes

    @property
    def content_type(self) -> str:
        return f"text/calendar; method={self.method}; charset=utf-8"


def new_uid() -> str:
    """A fresh UID for a meeting: a random UUID is unique across installations."""
    return str(uuid.uuid4())


def task_uid(release_meeting_uid: str, task_key: str) -> str:
    """A stable UID for a task deadline, derived from its meeting's UID (no extra column)."""
    return str(uuid.uuid5(uuid.UUID(release_meeting_uid), f"task:{task_key}"))


def feed_ics(calendar: CohortCalendar) -> bytes:
    """A published calendar (download or subscription): no METHOD, deterministic bytes.

    Serialising with icalendar costs about 0.1 ms per event (folded by `component_ics`), so
    each event's bytes are kept (keyed by the event's own immutable data): the 32 participants
    of a cohort polling every hour share them, and a change re-renders only the events it
    touches. The VTIMEZONE is rendered once per zone.
    """
    zone_name, text = calendar.timezone, calendar.text
    parts = [_feed_header(calendar.name, zone_name)]
    span = _span(calendar)
    if span is not None:
        parts.append(vtimezone_ics(zone_name, *span))
    for meeting in sorted(calendar.meetings, key=lambda m: (m.starts_at, m.key, m.uid)):
        summary = _summary(meeting, calendar)
        if meeting.cancelled:
            summary = text.cancelled % {"title": summary}
        parts.append(_meeting_ics(meeting, summary, zone_name, text))
    for task in sorted(calendar.tasks, key=lambda t: (t.due_at, t.key, t.uid)):
        parts.append(_task_ics(task, zone_name, text))
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


@lru_cache(maxsize=256)
def _feed_header(name: str, zone_name: str) -> bytes:
    """The VCALENDAR properties of a feed: everything before its first component."""
    from icalendar import vDuration

    ical = _calendar_shell()
    ical.add("name", name)
    ical.add("x-wr-calname", name)
    ical.add("x-wr-timezone", zone_name)
    ical.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    ical.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    return component_ics(ical).removesuffix(b"END:VCALENDAR\r\n")


@lru_cache(maxsize=8192)
def _meeting_ics(meeting: CalendarMeeting, summary: str, zone_name: str,
                 text: CalendarText) -> bytes:
    return component_ics(_meeting_event(meeting, summary, zone_name, text,
                                        meeting.last_modified))


@lru_cache(maxsize=8192)
def _task_ics(task: CalendarTask, zone_name: str, text: CalendarText) -> bytes:
    return component_ics(_task_event(task, zone_name, text))


def invitation(
    meeting: CalendarMeeting, calendar: CohortCalendar, organizer: Person, attendee: Person,
    now: datetime,
) -> CalendarMessage:
    """METHOD:REQUEST for a scheduled meeting, METHOD:CANCEL for a cancelled one.

    The UID is the meeting's own and SEQUENCE its revision, so a later REQUEST updates the
    event the attendee already has and a CANCEL removes it, never a duplicate.
    """
    return with_attendee(invitation_to_all(meeting, calendar, organizer, now), attendee)


def invitation_to_all(
    meeting: CalendarMeeting, calendar: CohortCalendar, organizer: Person, now: datetime,
) -> CalendarMessage:
    """`invitation` with a stand-in ATTENDEE: what every participant's copy shares. The
    outbox makes it once per meeting and batch; `with_attendee` completes each copy."""
    method = CANCEL if meeting.cancelled else REQUEST
    ical = _calendar_shell()
    ical.add("method", method)
    ical.add_component(vtimezone(calendar.timezone, meeting.starts_at, meeting.ends_at))
    event = _meeting_event(meeting, _summary(meeting, calendar), calendar.timezone,
                           calendar.text, now)
    event.add("organizer", _address(organizer, organizer=True))
    event.add("attendee", _address(_ANY_ATTENDEE, organizer=False))
    ical.add_component(event)
    return CalendarMessage(method, ical.to_ical())


def with_attendee(message: CalendarMessage, attendee: Person,
                  line: bytes | None = None) -> CalendarMessage:
    """The invitation for `attendee`: the stand-in's content line replaced by theirs (each
    is a whole folded line, and icalendar puts properties in an order by name, so this is
    byte for byte what `invitation` built in one go would be). `line` is `attendee_line`
    of the attendee when the caller has it already (the outbox keeps it for a pass)."""
    return CalendarMessage(message.method, message.ics.replace(
        _stand_in_line(), line or attendee_line(attendee), 1))


_ANY_ATTENDEE = Person("attendee@cohort.invalid", "")


@lru_cache(maxsize=1)
def _stand_in_line() -> bytes:
    return attendee_line(_ANY_ATTENDEE)


def attendee_line(attendee: Person) -> bytes:
    """The ATTENDEE content line of `attendee` (a participant's invitations share it)."""
    from icalendar import Event

    event = Event()
    event.add("attendee", _address(attendee, organizer=False))
    return event.to_ical().removeprefix(b"BEGIN:VEVENT\r\n").removesuffix(b"END:VEVENT\r\n")


def _calendar_shell() -> Calendar:
    from icalendar import Calendar

    ical = Calendar()
    ical.add("prodid", PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    return ical


def _span(calendar: CohortCalendar) -> tuple[datetime, datetime] | None:
    """First and last moment that needs the time zone (task deadlines are all-day)."""
    moments = [m.starts_at for m in calendar.meetings] + [m.ends_at for m in calendar.meetings]
    return (min(moments), max(moments)) if moments else None


def _meeting_event(
    meeting: CalendarMeeting, summary: str, zone_name: str, text: CalendarText, stamp: datetime
) -> Event:
    from icalendar import Event

    zone = ZoneInfo(zone_name)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", _utc(stamp))
    event.add("last-modified", _utc(meeting.last_modified))
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("description", _description(meeting, text, zone))
    location = meeting.location or meeting.online_url
    if location:
        event.add("location", location)
    if meeting.online_url:
        event.add("url", meeting.online_url)
    event.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if not meeting.cancelled:
        event.add_component(_alarm(text.reminder % {"title": summary}))
    return event


def _summary(meeting: CalendarMeeting, calendar: CohortCalendar) -> str:
    return f"{calendar.programme_title}: {meeting.title}"


def _description(meeting: CalendarMeeting, text: CalendarText, zone: ZoneInfo) -> str:
    """Themes, content, the leading question, tasks due before it and the online link."""
    parts: list[str] = []
    if meeting.themes:
        parts.append(f"{text.themes}: {', '.join(meeting.themes)}")
    if meeting.content:
        parts.append(f"{text.content}:\n" + _bullets(meeting.content))
    if meeting.question:
        parts.append(f"{text.question}: {meeting.question}")
    if meeting.tasks_due:
        lines = (f"{t.title} ({text.due % {'time': _when(t.due_at, zone, text.language)}})"
                 for t in sorted(meeting.tasks_due, key=lambda t: (t.due_at, t.title)))
        parts.append(f"{text.tasks_due}:\n" + _bullets(lines))
    if meeting.online_url:
        parts.append(f"{text.online}: {meeting.online_url}")
    return "\n\n".join(parts)


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    return format_datetime(moment, "EEE d MMM HH:mm", tzinfo=zone, locale=language)


def _task_event(task: CalendarTask, zone_name: str, text: CalendarText) -> Event:
    """All-day and transparent: a deadline should show, not block the day as busy."""
    from icalendar import Event

    zone = ZoneInfo(zone_name)
    due_day: date = task.due_at.astimezone(zone).date()
    event = Event()
    event.add("uid", task.uid)
    event.add("sequence", task.sequence)
    event.add("dtstamp", _utc(task.last_modified))
    event.add("last-modified", _utc(task.last_modified))
    event.add("dtstart", due_day)
    event.add("dtend", due_day + timedelta(days=1))
    clock = task.due_at.astimezone(zone).strftime("%H:%M")  # babel's "HH:mm", 8x cheaper
    event.add("summary", text.task_due % {"time": clock, "title": task.title})
    if task.description:
        event.add("description", task.description)
    event.add("transp", "TRANSPARENT")
    return event


def _alarm(description: str) -> Alarm:
    from icalendar import Alarm

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -REMINDER_BEFORE)
    alarm.add("description", description)
    return alarm


def _address(person: Person, organizer: bool) -> vCalAddress:
    from icalendar import vCalAddress

    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    if not organizer:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "FALSE"
    return address


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
