"""Read .ics files back with two independent parsers and check they agree.

`icalendar` (which wrote the file) and `vobject` (which reads the VTIMEZONE through dateutil,
not through zoneinfo) must both see the same events at the same instants and local times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar
import vobject
import vobject.icalendar


@dataclass(frozen=True)
class ParsedEvent:
    uid: str
    sequence: int
    summary: str
    status: str | None
    start: datetime | date
    end: datetime | date | None

    def local_start(self, zone_name: str) -> datetime:
        assert isinstance(self.start, datetime)
        return self.start.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)


def parse_with_icalendar(ics: bytes) -> tuple[icalendar.Calendar, list[ParsedEvent]]:
    calendar = icalendar.Calendar.from_ical(ics)
    events = [
        ParsedEvent(
            uid=str(e["UID"]), sequence=int(e.get("SEQUENCE", 0)), summary=str(e["SUMMARY"]),
            status=str(e["STATUS"]) if "STATUS" in e else None, start=e.decoded("DTSTART"),
            end=e.decoded("DTEND") if "DTEND" in e else None,
        )
        for e in calendar.walk("VEVENT")
    ]
    return calendar, events


def parse_with_vobject(ics: bytes) -> tuple[object, list[ParsedEvent]]:
    """vobject keeps a process-wide TZID registry where the first VTIMEZONE seen wins; clear
    it so that each file is read with its own VTIMEZONE, then make sure it was."""
    getattr(vobject.icalendar, "__tzidMap").clear()
    calendar = vobject.readOne(ics.decode("utf-8"))
    # vobject swaps in its own (pytz) zone for a VTIMEZONE without DAYLIGHT parts, as for
    # Europe/Dublin, whose summer time tzdata calls standard time; the instants are then still
    # compared with icalendar's reading in parse_both.
    has_daylight = b"BEGIN:DAYLIGHT" in ics
    events = []
    for e in getattr(calendar, "vevent_list", []):
        start = e.dtstart.value
        if has_daylight and (isinstance(start, datetime) and start.utcoffset()
                             or "TZID" in e.dtstart.params):
            assert type(start.tzinfo).__name__ == "_tzicalvtz", "vobject ignored the VTIMEZONE"
        events.append(ParsedEvent(
            uid=e.uid.value, sequence=int(e.sequence.value) if hasattr(e, "sequence") else 0,
            summary=e.summary.value, status=e.status.value if hasattr(e, "status") else None,
            start=start, end=e.dtend.value if hasattr(e, "dtend") else None,
        ))
    return calendar, events


def same_instant(a, b) -> bool:
    """Equal wall-clock time and UTC offset.

    Plain `==` between aware datetimes of two tzinfo implementations is always False inside a
    repeated (ambiguous) hour (PEP 495), so compare what a calendar shows and means instead.
    """
    if not isinstance(a, datetime) or not isinstance(b, datetime):
        return a == b
    return (a.replace(tzinfo=None), a.utcoffset()) == (b.replace(tzinfo=None), b.utcoffset())


def parse_both(ics: bytes) -> list[ParsedEvent]:
    """The events, after checking that both parsers read identical instants and fields."""
    _, ours = parse_with_icalendar(ics)
    _, theirs = parse_with_vobject(ics)
    assert len(ours) == len(theirs)
    for mine, other in zip(ours, theirs, strict=True):
        assert (mine.uid, mine.sequence, mine.summary, mine.status) == (
            other.uid, other.sequence, other.summary, other.status)
        assert same_instant(mine.start, other.start), f"{mine.uid}: {mine.start} != {other.start}"
        assert same_instant(mine.end, other.end), f"{mine.uid}: {mine.end} != {other.end}"
    return ours


def unfold(ics: bytes) -> str:
    return ics.decode("utf-8").replace("\r\n ", "").replace("\r\n", "\n")


def normalise(ics: bytes) -> str:
    """Unfolded text with UIDs numbered in order of appearance and DTSTAMPs blanked."""
    text = unfold(ics)
    numbers: dict[str, str] = {}

    def number(match: re.Match) -> str:
        return "UID:" + numbers.setdefault(match.group(1), f"uid-{len(numbers) + 1}")

    text = re.sub(r"^UID:(.+)$", number, text, flags=re.MULTILINE)
    return re.sub(r"^DTSTAMP:.*$", "DTSTAMP:<normalised>", text, flags=re.MULTILINE)


def calendar_from_plan(plan, programme, now: datetime, cancelled: frozenset[str] = frozenset(),
                       online_url: str | None = None, text=None):
    """Core calendar data for a plan, as the service would make it from rows."""
    from cohort.core import calendars as ical

    due = {}
    for task in plan.tasks:
        if task.due_at is not None and task.due_meeting_key:
            due.setdefault(task.due_meeting_key, []).append(ical.DueTask(task.title, task.due_at))
    meetings = [
        ical.CalendarMeeting(
            key=m.key, uid=ical.new_uid(), sequence=0, title=m.title, starts_at=m.starts_at,
            ends_at=m.ends_at, last_modified=now, location=m.location,
            online_url=online_url if m.format == "online" else m.online_url,
            cancelled=m.key in cancelled, themes=m.themes, content=m.content,
            question=m.question, tasks_due=tuple(due.get(m.key, ())),
        )
        for m in plan.meetings
    ]
    uids = {m.key: m.uid for m in meetings}
    tasks = [ical.CalendarTask(key=t.key, uid=ical.task_uid(uids[t.meeting_key], t.key), sequence=0,
                               title=t.title, description=t.description, due_at=t.due_at,
                               last_modified=now)
             for t in plan.tasks if t.due_at is not None]
    return ical.CohortCalendar(name="Test cohort", programme_title=programme.title,
                               timezone=plan.timezone, meetings=meetings, tasks=tasks,
                               text=text or ical.CalendarText())
