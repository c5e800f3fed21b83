"""Dates worth a second look in a cohort's plan: deadlines and meetings that fall in the
past, on a weekend or on a public holiday.

A facilitator may mean any of them (a Saturday module, a survey that closes on Ascension Day),
so these are warnings, not errors. The reschedule preview shows the ones a move causes, the
cohort's overview keeps showing the holidays and weekends still ahead, and creating a cohort
lists what is already past. Pure: the plan, the holidays (date -> name, from
`core.holidays_calendar`) and `now` come in, plain data goes out; the edges word it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .planning import Plan
from .turning_points import JUST_AFTER, next_turning_point

PAST, WEEKEND, HOLIDAY = "past", "weekend", "holiday"
CODES = (PAST, WEEKEND, HOLIDAY)

# The dated fields a participant acts on: a meeting to attend, a task to hand in, a survey
# to answer before it closes. Weekends and holidays matter for these.
DEADLINE_FIELDS = {"meeting": ("starts_at",), "task": ("due_at",), "survey": ("closes_at",)}
# Every dated field that is lost when it lies in the past (its email is skipped, or the
# participant cannot make it any more).
PAST_FIELDS = {"meeting": ("starts_at",), "task": ("release_at", "due_at"),
               "prompt": ("send_at",), "survey": ("opens_at", "closes_at")}


@dataclass(frozen=True)
class DateWarning:
    code: str  # past | weekend | holiday
    item: str  # meeting | task | prompt | survey
    key: str
    title: str
    field: str  # starts_at, release_at, due_at, send_at, opens_at, closes_at
    at: datetime
    day: date  # the local day of `at`
    holiday: str = ""  # the holiday's name (the package's default language) for `holiday`

    @property
    def ref(self) -> tuple[str, str, str]:
        return (self.item, self.key, self.field)


def plan_years(plan: Plan) -> set[int]:
    """The years a plan's dates fall in (local time), to look up their holidays."""
    zone = ZoneInfo(plan.timezone)
    return {at.astimezone(zone).year for _item, _key, _title, _field, at in _dated(plan)}


def date_warnings(plan: Plan, now: datetime | None, holidays: Mapping[date, str], *,
                  only: Collection[tuple[str, str, str]] | None = None,
                  codes: Iterable[str] = CODES) -> list[DateWarning]:
    """The plan's dates in the past, or deadlines on a weekend or holiday, by date: at most
    one warning for each dated field (a holiday that falls on a weekend is a holiday).

    `only` limits them to some (item, key, field) triples, such as those a move changes;
    `codes` to some kinds of warning. A cancelled meeting warns of nothing. With `now` None
    the plan is judged on its own: nothing is past, every deadline is ahead.
    """
    wanted = set(codes)
    zone = ZoneInfo(plan.timezone)
    warnings = []
    for item, key, title, field_name, at in _dated(plan):
        if only is not None and (item, key, field_name) not in only:
            continue
        day = at.astimezone(zone).date()
        found = []
        ahead = now is None or at >= now
        if PAST in wanted and not ahead and field_name in PAST_FIELDS.get(item, ()):
            found.append((PAST, ""))
        if field_name in DEADLINE_FIELDS.get(item, ()) and ahead:
            # One warning per date: a holiday on a weekend is said as the holiday (the
            # stronger reason; the date as the page shows it names the weekday).
            if HOLIDAY in wanted and day in holidays:
                found.append((HOLIDAY, holidays[day]))
            elif WEEKEND in wanted and day.weekday() >= 5:
                found.append((WEEKEND, ""))
        warnings.extend(DateWarning(code, item, key, title, field_name, at, day, name)
                        for code, name in found)
    return sorted(warnings, key=lambda w: (w.at, CODES.index(w.code), w.item, w.key))


def next_change(plan: Plan, now: datetime) -> datetime | None:
    """The next moment `date_warnings(plan, ...)` can give other warnings by the clock alone:
    its rules compare each dated field with `now` and nothing else, `at < now` and
    `at >= now`, both of which change just after `at`."""
    return next_turning_point((at + JUST_AFTER for *_, at in _dated(plan)), now)


def _dated(plan: Plan) -> Iterable[tuple[str, str, str, str, datetime]]:
    """(item, key, title, field, datetime) for every dated field of the plan."""
    for m in plan.meetings:
        if not m.cancelled:
            yield "meeting", m.key, m.title, "starts_at", m.starts_at
    for t in plan.tasks:
        yield "task", t.key, t.title, "release_at", t.release_at
        if t.due_at is not None:
            yield "task", t.key, t.title, "due_at", t.due_at
    for p in plan.prompts:
        yield "prompt", p.key, p.question, "send_at", p.send_at
    for s in plan.surveys:
        yield "survey", s.key, s.title, "opens_at", s.opens_at
        yield "survey", s.key, s.title, "closes_at", s.closes_at
