"""Property: for any programme, start date and zone, the calendar says what the plan says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from cohort.core import calendars as ical
from cohort.core.planning import plan_cohort
from cohort.core.programme import MEETING_KINDS, Programme
from tests.fixtures.ics import calendar_from_plan, parse_both, same_instant
from tests.fixtures.properties import property_settings

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
# Zones chosen for their quirks: half-hour DST (Lord Howe), odd offsets (Chatham, Kathmandu),
# southern hemisphere, DST abolished or changed recently, negative DST (Dublin), Ramadan
# changes without a yearly rule (Casablanca), Friday rules (Jerusalem).
ZONES = [
    "Europe/Copenhagen", "Europe/Oslo", "Europe/Dublin", "Europe/London", "Europe/Kyiv",
    "America/New_York", "America/Santiago", "America/Asuncion", "America/Mexico_City",
    "America/Nuuk", "America/St_Johns", "Australia/Sydney", "Australia/Lord_Howe",
    "Pacific/Chatham", "Pacific/Apia", "Asia/Kathmandu", "Asia/Tehran", "Asia/Jerusalem",
    "Africa/Casablanca", "Africa/Cairo", "Asia/Tokyo", "UTC",
]


@st.composite
def programmes(draw) -> Programme:
    count = draw(st.integers(min_value=1, max_value=6))
    offsets = sorted(draw(st.lists(st.integers(0, 400), min_size=count, max_size=count)))
    meetings = [
        {
            "key": f"m{index}",
            "kind": draw(st.sampled_from(MEETING_KINDS)),
            "title": f"Meeting {index}",
            "offset": offset,
            "start": f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 15, 30, 45])):02d}",
            "duration": draw(st.integers(5, 12 * 60)),
            "themes": ["Theme"],
        }
        for index, offset in enumerate(offsets)
    ]
    return programme_of(meetings)


def programme_of(meetings: list[dict]) -> Programme:
    """The programme `programmes()` draws, for given meetings (also for explicit examples)."""
    tasks = [{"key": "prepare", "kind": "reflection", "title": "Prepare",
              "repeat": "each-meeting", "release": "meeting end +1d 08:00",
              "due": "next -1d 12:00"}]
    return Programme.model_validate({"id": "random", "title": "Random", "language": "en",
                                     "meetings": meetings, "tasks": tasks})


@property_settings(40)
# Found by random exploration: Morocco in 2031, inside the span where tzdata versions disagree.
@example(programme=programme_of([{"key": "m0", "kind": "kickoff", "title": "Meeting 0",
                                  "offset": 0, "start": "00:00", "duration": 5,
                                  "themes": ["Theme"]}]),
         start=date(2031, 2, 1), zone_name="Africa/Casablanca")
@given(programme=programmes(), start=st.dates(date(1995, 1, 1), date(2045, 12, 31)),
       zone_name=st.sampled_from(ZONES))
def test_every_event_starts_at_the_planned_local_time(programme, start, zone_name):
    plan = plan_cohort(programme, start, zone_name)
    data = calendar_from_plan(plan, programme, NOW)
    events = parse_both(ical.feed_ics(data))
    zone = ZoneInfo(zone_name)
    by_uid = {e.uid: e for e in events}
    assert len(by_uid) == len(events) == len(plan.meetings) + len(data.tasks)
    for meeting, planned in zip(data.meetings, plan.meetings, strict=True):
        event = by_uid[meeting.uid]
        assert event.local_start(zone_name) == planned.starts_at.astimezone(zone).replace(
            tzinfo=None)
        assert same_instant(event.start, planned.starts_at.astimezone(zone))
        # Aware datetimes in one zone subtract as wall clocks in Python: compare in UTC.
        assert event.end.astimezone(UTC) - event.start.astimezone(UTC) == (
            planned.ends_at - planned.starts_at)
    for task in data.tasks:
        assert by_uid[task.uid].start == task.due_at.astimezone(zone).date()
        assert by_uid[task.uid].end == by_uid[task.uid].start + timedelta(days=1)
