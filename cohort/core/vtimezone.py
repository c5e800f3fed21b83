"""VTIMEZONE components built from zoneinfo, in the RRULE form Outlook and Google write.

icalendar's own ``add_missing_timezones()`` lists every transition as RDATEs; Outlook is
reported to shift summer events by an hour with that form and vobject 0.9 reads it with the
winter offset all year. So we write what Outlook and Google write themselves: one DAYLIGHT and
one STANDARD observance, each repeating yearly (``RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3``).

The rules are not hard-coded: we find the zone's transitions with zoneinfo, recognise the
yearly rule the zone follows now (month, weekday, week of the month, wall-clock time) and how
far back it has held without a break. That is computed once per zone and cached. A calendar
with events older than that, or a zone without a yearly rule (Morocco's Ramadan changes),
gets an explicit observance per transition in the span of its events instead (DTSTART only,
no RDATE lists), which every parser we test understands.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from icalendar import Timezone

# Scanning window for recognising a zone's current rules: tzdata lists explicit transitions up
# to 2037 and the POSIX rule after that, so the last years of the window show the rule.
_SCAN_FROM = datetime(1970, 1, 1, tzinfo=UTC)
_SCAN_TO = datetime(2046, 1, 1, tzinfo=UTC)
_TAIL_YEARS = 10
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class ZoneState:
    offset: timedelta
    dst: timedelta
    name: str


@dataclass(frozen=True)
class Transition:
    """The zone changes from `before` to `after` at the UTC instant `at`."""

    at: datetime
    before: ZoneState
    after: ZoneState

    @property
    def wall_before(self) -> datetime:
        """The local clock time of the change, read on the clock before it (RFC 5545 DTSTART)."""
        return (self.at + self.before.offset).replace(tzinfo=None)

    @property
    def rule_key(self) -> tuple:
        """What a yearly rule keeps fixed; the week of the month is checked separately."""
        wall = self.wall_before
        return (self.before.offset, self.after.offset, self.after.name, wall.month,
                wall.weekday(), wall.time())


@dataclass(frozen=True)
class ZoneRules:
    """The zone's current rules and the UTC instant from which they have held."""

    since: datetime
    component: Timezone
    ics: bytes  # the component rendered once


def _state(zone: ZoneInfo, instant: datetime) -> ZoneState:
    local = instant.astimezone(zone)
    return ZoneState(local.utcoffset(), local.dst(), local.tzname())


def transitions(zone_name: str, start: datetime, end: datetime) -> list[Transition]:
    """Every change of offset, DST or abbreviation between two UTC instants.

    zoneinfo has no public list of transitions, so we step a day at a time and bisect each
    change to the second (about 30 ms for 75 years; callers cache).
    """
    zone = ZoneInfo(zone_name)
    found: list[Transition] = []
    day = 86400
    moment, stop = int(start.timestamp()), int(end.timestamp())
    state = _state(zone, start)
    seen = (state.offset, state.dst, state.name)
    while moment < stop:
        local = datetime.fromtimestamp(moment + day, zone)
        now_seen = (local.utcoffset(), local.dst(), local.tzname())
        if now_seen != seen:
            low = datetime.fromtimestamp(moment, UTC)
            high = datetime.fromtimestamp(moment + day, UTC)
            after = ZoneState(*now_seen)
            found.append(Transition(_bisect(zone, low, high, state), state, after))
            state, seen = after, now_seen
        moment += day
    return found


def _bisect(zone: ZoneInfo, low: datetime, high: datetime, before: ZoneState) -> datetime:
    second = timedelta(seconds=1)
    while high - low > second:
        middle = low + ((high - low) // 2 // second) * second
        if _state(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


@cache
def current_rules(zone_name: str) -> ZoneRules | None:
    """The zone's present yearly rules as a VTIMEZONE, or None if it has no yearly rule."""
    found = transitions(zone_name, _SCAN_FROM, _SCAN_TO)
    tail_start = _SCAN_TO.replace(year=_SCAN_TO.year - _TAIL_YEARS)
    tail = [t for t in found if t.at >= tail_start]
    if not tail:
        return _fixed_offset_rules(zone_name, found)
    run = _yearly_run(found, {t.rule_key for t in tail})
    if run is None:
        return None
    observances = []
    for key in dict.fromkeys(t.rule_key for t in run):
        members = [t for t in run if t.rule_key == key]
        observances.append(_yearly_observance(members, daylight=_is_daylight(members[0], run)))
    return _rules(run[0].at, _component(zone_name, observances))


def _fixed_offset_rules(zone_name: str, found: list[Transition]) -> ZoneRules:
    zone = ZoneInfo(zone_name)
    if found:
        last = found[-1]
        start, before, after = last.wall_before, last.before, last.after
        since = last.at
    else:
        since = _SCAN_FROM
        before = after = _state(zone, _SCAN_FROM)
        start = (_SCAN_FROM + after.offset).replace(tzinfo=None)
    from icalendar import TimezoneStandard

    observance = _observance(TimezoneStandard, start, before.offset, after)
    return _rules(since, _component(zone_name, [observance]))


def _rules(since: datetime, component: Timezone) -> ZoneRules:
    return ZoneRules(since, component, component.to_ical())


def _yearly_run(found: list[Transition], keys: set[tuple]) -> list[Transition] | None:
    """The longest unbroken stretch at the end that follows one or two yearly rules.

    Unbroken means: rules alternate, each recurs exactly one year after its previous
    occurrence, and its days of the month always fit one 7-day window.
    """
    if len(keys) != 2:
        return None
    run: list[Transition] = []
    for transition in reversed(found):
        key = transition.rule_key
        if key not in keys:
            break
        if run and run[0].rule_key == key:
            break  # two changes of the same kind in a row
        same = [t for t in run if t.rule_key == key]
        if same and same[0].wall_before.year - transition.wall_before.year != 1:
            break
        if same and not _week_windows([transition, *same]):
            break
        run.insert(0, transition)
    return run if len(run) >= 4 else None


def _week_windows(members: list[Transition]) -> list[int]:
    """First days of the 7-day windows of the month that contain every member's day."""
    days = [t.wall_before.day for t in members]
    return [start for start in range(max(days) - 6, min(days) + 1) if start >= 1]


def _is_daylight(transition: Transition, run: list[Transition]) -> bool:
    """The observance with the larger offset is summer time (also for Dublin's negative DST)."""
    offsets = {t.after.offset for t in run}
    if len(offsets) == 1:
        return transition.after.dst > timedelta(0)
    return transition.after.offset == max(offsets)


def _yearly_observance(members: list[Transition], daylight: bool):
    first = members[0]
    wall = first.wall_before
    weekday = _WEEKDAYS[wall.weekday()]
    windows = _week_windows(members)
    month_lengths = {_calendar.monthrange(t.wall_before.year, wall.month)[1] for t in members}
    rule: dict[str, object] = {"freq": "yearly", "bymonth": wall.month}
    last_week_start = month_lengths.pop() - 6 if len(month_lengths) == 1 else None
    if last_week_start in windows:
        rule["byday"] = f"-1{weekday}"
    elif nth := next((s for s in windows if s in (1, 8, 15, 22)), None):
        rule["byday"] = f"{(nth - 1) // 7 + 1}{weekday}"
    else:
        rule["byday"] = weekday
        rule["bymonthday"] = list(range(windows[0], windows[0] + 7))
    from icalendar import TimezoneDaylight, TimezoneStandard, vRecur

    kind = TimezoneDaylight if daylight else TimezoneStandard
    observance = _observance(kind, wall, first.before.offset, first.after)
    observance.add("rrule", vRecur(rule))
    return observance


def _observance(kind, start: datetime, offset_from: timedelta, state: ZoneState):
    observance = kind()
    observance.add("dtstart", start)
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", state.offset)
    observance.add("tzname", state.name)
    return observance


def _component(zone_name: str, observances: list) -> Timezone:
    from icalendar import Timezone

    component = Timezone()
    component.add("tzid", zone_name)
    for observance in observances:
        component.add_component(observance)
    return component


def vtimezone(zone_name: str, first: datetime, last: datetime) -> Timezone:
    """The VTIMEZONE for events between `first` and `last` (aware datetimes).

    The yearly-rule component is shared by every calendar of the zone; only calendars reaching
    back before the zone's current rules, or zones without yearly rules, get a component of
    explicit transitions for their span.
    """
    rules = current_rules(zone_name)
    if rules is not None and first >= rules.since:
        return rules.component
    return _explicit_component(zone_name, first.year - 1, last.year + 1)


def vtimezone_ics(zone_name: str, first: datetime, last: datetime) -> bytes:
    """`vtimezone` rendered, from the same caches (a feed joins bytes, not components)."""
    rules = current_rules(zone_name)
    if rules is not None and first >= rules.since:
        return rules.ics
    return _explicit_ics(zone_name, first.year - 1, last.year + 1)


@lru_cache(maxsize=256)
def _explicit_ics(zone_name: str, first_year: int, last_year: int) -> bytes:
    return _explicit_component(zone_name, first_year, last_year).to_ical()


@lru_cache(maxsize=256)
def _explicit_component(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """One observance per transition in the years given, plus the state at their start."""
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    initial = _state(ZoneInfo(zone_name), start)
    observances = [_observance(_kind(initial), (start + initial.offset).replace(tzinfo=None),
                               initial.offset, initial)]
    for transition in transitions(zone_name, start, end):
        observances.append(_observance(_kind(transition.after), transition.wall_before,
                                       transition.before.offset, transition.after))
    return _component(zone_name, observances)


def _kind(state: ZoneState):
    from icalendar import TimezoneDaylight, TimezoneStandard

    return TimezoneDaylight if state.dst > timedelta(0) else TimezoneStandard
