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
    """Morocco leaves +01 for Ramadan: no yearly rule exists, so each change is listed.

    tzdata 2026f ends that on 2026-09-20 (+00 for good after it): from then on the zone has a
    rule again (a fixed offset), but not yet for these years, with either tzdata.
    """
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    rules = current_rules("Africa/Casablanca")
    assert rules is None or rules.since > start
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


def assert_same_wall_offsets(zone_name: str, component, start: datetime, end: datetime) -> None:
    """Local times as a DTSTART gives them, around every change and weekly in between, read
    with dateutil (vobject's engine) and with icalendar's own reading of the component (for a
    known TZID icalendar would otherwise use zoneinfo and never look at it)."""
    zone = ZoneInfo(zone_name)
    readers = [read_back(component, zone_name), component.to_tz(lookup_tzid=False)]
    walls = [(start + timedelta(days=day)).astimezone(zone).replace(tzinfo=None)
             for day in range(0, (end - start).days + 1, 7)]
    for change in transitions(zone_name, start, end):
        walls += [change.wall_before + timedelta(minutes=minutes)
                  for minutes in (-61, -60, -1, 0, 1, 59, 60, 61, 119, 120, 121)]
    for wall in walls:
        expected = wall.replace(tzinfo=zone).utcoffset()
        if wall.replace(tzinfo=zone, fold=1).utcoffset() != expected:
            continue  # skipped or repeated on the clock: RFC 5545 and dateutil differ there
        for reader in readers:
            assert wall.replace(tzinfo=reader).utcoffset() == expected, (zone_name, wall, reader)


def test_casablanca_2031_reads_as_zoneinfo_says():
    """Found by the calendar property test: one meeting at 00:00 on 2031-02-01 in Casablanca.

    With the Debian tzdata (2025b) that is +01 (Ramadan ends 2031-01-26), with tzdata 2026f it
    is +00; whichever zoneinfo uses, the VTIMEZONE for the span must say the same.
    """
    zone_name = "Africa/Casablanca"
    meeting = datetime(2031, 2, 1, 0, 0, tzinfo=ZoneInfo(zone_name))
    component = vtimezone(zone_name, meeting, meeting + timedelta(days=400))
    assert datetime(2031, 2, 1, 0, 0, tzinfo=read_back(component, zone_name)).utcoffset() == (
        meeting.utcoffset())
    assert_same_wall_offsets(zone_name, component, datetime(2030, 1, 1, tzinfo=UTC),
                             datetime(2033, 1, 1, tzinfo=UTC))


# Zones whose recent or future changes are irregular (Ramadan, one-off moves, new rules).
@pytest.mark.parametrize("zone_name", [
    "Africa/Casablanca", "Africa/El_Aaiun", "Asia/Gaza", "Asia/Hebron", "Africa/Cairo",
    "America/Nuuk", "America/Santiago", "America/Asuncion", "Pacific/Apia", "Europe/Dublin",
])
@pytest.mark.parametrize("year", [2018, 2026, 2031, 2044])
def test_irregular_zones_read_as_zoneinfo_says(zone_name, year):
    first = datetime(year, 2, 1, tzinfo=UTC)
    last = first + timedelta(days=420)
    assert_same_wall_offsets(zone_name, vtimezone(zone_name, first, last), first, last)


def test_transitions_are_found_to_the_second():
    changes = transitions("Europe/Copenhagen", datetime(2025, 1, 1, tzinfo=UTC),
                          datetime(2026, 1, 1, tzinfo=UTC))
    assert [c.at for c in changes] == [datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
                                       datetime(2025, 10, 26, 1, 0, tzinfo=UTC)]
    assert [c.wall_before for c in changes] == [datetime(2025, 3, 30, 2, 0),
                                                datetime(2025, 10, 26, 3, 0)]
