"""VTIMEZONE from zoneinfo: RRULE form, built once per zone, right for the years it covers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz
from icalendar import Calendar

from cohort.core.vtimezone import current_rules, transitions, vtimezone

COPENHAGEN_2025 = (datetime(2025, 4, 8, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))


def text(component) -> str:
    return component.to_ical().decode().replace("\r\n", "\n")


def read_back(component, zone_name: str):
    """The component as dateutil (vobject's engine) understands it: independent of zoneinfo."""
    calendar = Calendar()
    calendar.add("prodid", "-//test//EN")
    calendar.add("version", "2.0")
    calendar.add_component(component)
    return dateutil_tz.tzical(io.StringIO(calendar.to_ical().decode())).get(zone_name)


def assert_same_offsets(zone_name: str, component, start: datetime, end: datetime) -> None:
    theirs, ours = read_back(component, zone_name), ZoneInfo(zone_name)
    moment = start
    while moment < end:
        assert moment.astimezone(theirs).utcoffset() == moment.astimezone(ours).utcoffset(), (
            zone_name, moment)
        moment += timedelta(hours=11)


def test_copenhagen_is_one_daylight_and_one_standard_rule():
    assert text(vtimezone("Europe/Copenhagen", *COPENHAGEN_2025)) == (
        "BEGIN:VTIMEZONE\n"
        "TZID:Europe/Copenhagen\n"
        "BEGIN:DAYLIGHT\n"
        "DTSTART:19960331T020000\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n"
        "TZNAME:CEST\n"
        "TZOFFSETFROM:+0100\n"
        "TZOFFSETTO:+0200\n"
        "END:DAYLIGHT\n"
        "BEGIN:STANDARD\n"
        "DTSTART:19961027T030000\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\n"
        "TZNAME:CET\n"
        "TZOFFSETFROM:+0200\n"
        "TZOFFSETTO:+0100\n"
        "END:STANDARD\n"
        "END:VTIMEZONE\n"
    )


def test_built_once_per_zone_and_shared():
    first = vtimezone("Europe/Oslo", *COPENHAGEN_2025)
    later = vtimezone("Europe/Oslo", datetime(2031, 1, 1, tzinfo=UTC),
                      datetime(2032, 6, 1, tzinfo=UTC))
    assert first is later
    assert current_rules.cache_info().hits >= 1


@pytest.mark.parametrize("zone_name, rules", [
    ("America/New_York", ["BYDAY=2SU;BYMONTH=3", "BYDAY=1SU;BYMONTH=11"]),
    ("Australia/Sydney", ["BYDAY=1SU;BYMONTH=10", "BYDAY=1SU;BYMONTH=4"]),
    # Friday before the last Sunday of March: a weekday inside a 7-day window.
    ("Asia/Jerusalem", ["BYDAY=FR;BYMONTHDAY=23,24,25,26,27,28,29;BYMONTH=3",
                        "BYDAY=-1SU;BYMONTH=10"]),
    ("Europe/Dublin", ["BYDAY=-1SU;BYMONTH=3", "BYDAY=-1SU;BYMONTH=10"]),
])
def test_yearly_rules_are_read_from_zoneinfo(zone_name, rules):
    component = vtimezone(zone_name, *COPENHAGEN_2025)
    written = text(component)
    for rule in rules:
        assert f"RRULE:FREQ=YEARLY;{rule}\n" in written
    assert written.count("BEGIN:DAYLIGHT") == 1 and written.count("BEGIN:STANDARD") == 1
    assert "RDATE" not in written
    assert_same_offsets(zone_name, component, datetime(2024, 1, 1, tzinfo=UTC),
                        datetime(2036, 1, 1, tzinfo=UTC))


def test_zone_without_daylight_saving_has_one_standard_observance():
    written = text(vtimezone("Asia/Tokyo", *COPENHAGEN_2025))
    assert written.count("BEGIN:STANDARD") == 1 and "DAYLIGHT" not in written
    assert "TZOFFSETTO:+0900" in written and "RRULE" not in written


def test_events_before_the_current_rules_get_explicit_transitions():
    """Copenhagen ended summer time in September until 1995: a yearly October rule is wrong."""
    start, end = datetime(1990, 1, 1, tzinfo=UTC), datetime(1997, 12, 31, tzinfo=UTC)
    component = vtimezone("Europe/Copenhagen", start, end)
    assert "RRULE" not in text(component) and "DTSTART:19950924T030000" in text(component)
    assert_same_offsets("Europe/Copenhagen", component, start, end)


def test_zone_without_yearly_rule_gets_explicit_transitions():
    """Morocco leaves +01 for Ramadan: no yearly rule exists, so each change is listed."""
    assert current_rules("Africa/Casablanca") is None
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    component = vtimezone("Africa/Casablanca", start, end)
    assert "RRULE" not in text(component)
    changes = transitions("Africa/Casablanca", datetime(2024, 1, 1, tzinfo=UTC),
                          datetime(2028, 1, 1, tzinfo=UTC))
    assert len(component.subcomponents) == len(changes) + 1
    # Compare away from the changes: dateutil is unsure inside the repeated hour.
    assert_same_offsets("Africa/Casablanca", component, datetime(2025, 3, 1, tzinfo=UTC),
                        datetime(2025, 3, 20, tzinfo=UTC))
    assert_same_offsets("Africa/Casablanca", component, datetime(2025, 4, 10, tzinfo=UTC),
                        datetime(2026, 1, 1, tzinfo=UTC))


def test_transitions_are_found_to_the_second():
    changes = transitions("Europe/Copenhagen", datetime(2025, 1, 1, tzinfo=UTC),
                          datetime(2026, 1, 1, tzinfo=UTC))
    assert [c.at for c in changes] == [datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
                                       datetime(2025, 10, 26, 1, 0, tzinfo=UTC)]
    assert [c.wall_before for c in changes] == [datetime(2025, 3, 30, 2, 0),
                                                datetime(2025, 10, 26, 3, 0)]
