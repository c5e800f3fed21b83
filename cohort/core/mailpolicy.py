"""When participant email may go out, and which items travel together: the mail policy.

A programme's `mail:` block (`programme.schema.MailSettings`) says on which days and hours a
participant may get email and how items are bundled. `schedule_mail` turns planned items (each
with the time the plan gives it, the earliest time it may go and the time it stops being
useful) into **slots**: one send time and the items sent together at it. Rules:

- A non-meeting item (welcome, task released, task reminder, prompt, survey invitation and
  reminder, catch-up) joins the day's one email: a participant gets at most one of them a day.
  Meeting invitations are emails of their own (`MailItem.alone`), because a calendar program
  reads a meeting request only as the whole message, but they keep the quiet hours too.
- Nothing goes out on a day off (a weekday not in `days`, or a public holiday of the country)
  or outside the working hours: an item moves to the next allowed time, unless that is too late
  to be useful; then it goes earlier if it may (a reminder or a prompt before its meeting),
  or it is skipped, with the reason, and counted.
- A reminder (task or survey) goes at least a day after its first email and never when the
  first email was skipped.
- Reminders and prompts may come up to `gather` earlier than planned to join an email that
  goes anyway; `bundle: weekly` gathers up to six days.

Meeting updates and cancellations are not planned here: they go when the change happens.
The function is pure: the dispatcher sends a slot's rows as one message (mail/dispatch.py)
because they share recipient and send time (`bundle_key`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays as public_holidays

# A reminder comes at least this long after the email it reminds of.
REMINDER_GAP = timedelta(hours=20)
# An item with no deadline of its own waits at most this long for an allowed slot.
MAX_HOLD = timedelta(days=7)
WEEKDAY_NUMBERS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class MailPolicy:
    """A programme's policy with the cohort's zone and holiday country filled in."""

    timezone: str
    bundle: str = "daily"  # daily | weekly | off
    hours: tuple[time, time] | None = (time(8, 0), time(17, 0))
    days: frozenset[int] = frozenset(range(5))
    country: str | None = "DK"
    gather: timedelta = timedelta(days=3)

    @property
    def reach_back(self) -> timedelta:
        """How much earlier than planned a reminder or prompt may go to join an email."""
        return timedelta(days=6) if self.bundle == "weekly" else self.gather


def policy_from_settings(settings, timezone: str, country: str | None) -> MailPolicy:
    """`MailSettings` of a programme -> the policy of one cohort (zone and holidays)."""
    chosen = settings.holidays
    return MailPolicy(
        timezone=timezone, bundle=settings.bundle, hours=settings.hours,
        days=frozenset(WEEKDAY_NUMBERS[d] for d in settings.days),
        country=None if chosen == "none" else (chosen or country),
        gather=settings.gather)


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> public_holidays.HolidayBase:
    import holidays as public_holidays  # on first use, as in core.holidays_calendar

    return public_holidays.country_holidays(country, years=year)


class WorkingTime:
    """The allowed sending times of one policy: days on, within the hours, in local time."""

    def __init__(self, policy: MailPolicy) -> None:
        self.policy = policy
        self.zone = ZoneInfo(policy.timezone)
        self.start, self.end = policy.hours or (time(0, 0), None)

    def day_on(self, day: date) -> bool:
        if day.weekday() not in self.policy.days:
            return False
        return not (self.policy.country and day in _holidays(self.policy.country, day.year))

    def allowed(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.day_on(local.date()) and self._in_hours(local.time())

    def _in_hours(self, clock: time) -> bool:
        return clock >= self.start and (self.end is None or clock < self.end)

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` if allowed, else the start of the next allowed stretch."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if self.day_on(day):
            if local.time() < self.start:
                return self._at(day, self.start)
            if self._in_hours(local.time()):
                return moment
        for _ in range(400):
            day += timedelta(days=1)
            if self.day_on(day):
                return self._at(day, self.start)
        raise ValueError("the mail policy allows no day in a year")

    def previous_allowed(self, moment: datetime) -> datetime:
        """`moment` if allowed, else the start of the working hours of the latest day on
        whose start is before it (a morning email rather than one just before closing)."""
        if self.allowed(moment):
            return moment
        day = moment.astimezone(self.zone).date()
        for _ in range(400):
            if self.day_on(day) and self._at(day, self.start) <= moment:
                return self._at(day, self.start)
            day -= timedelta(days=1)
        raise ValueError("the mail policy allows no day in a year")

    def back(self, moment: datetime, reach: timedelta) -> datetime:
        """`moment` minus `reach`, counting whole days only when they are days on (so
        reminders may gather across a weekend); at the same local time of day."""
        local = moment.astimezone(self.zone)
        day, left = local.date(), reach.days
        while left > 0:
            day -= timedelta(days=1)
            if self.day_on(day):
                left -= 1
        return datetime.combine(day, local.time(), tzinfo=self.zone).astimezone(UTC)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


@dataclass(frozen=True)
class MailItem:
    """One planned email item for a participant (the same for every participant of a cohort).

    `alone` items are emails of their own (meeting invitations: see core/deliveries.py);
    `order` sorts items planned for the same moment. `at` is the plan's time; `earliest` the
    time it may not go before (its release, its survey's opening); `gathers`: it may also come
    the policy's reach-back earlier, counted in days on (reminders, and prompts before a
    meeting); `deadline` when
    it stops being useful (None: it waits at most MAX_HOLD); `follows` the (kind, anchor) of
    the email a reminder reminds of.
    """

    kind: str
    anchor: str
    at: datetime
    earliest: datetime
    deadline: datetime | None = None
    follows: tuple[str, str] | None = None
    alone: bool = False
    order: int = 0
    gathers: bool = False  # may come up to the policy's reach-back earlier (working days)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.anchor)

    @property
    def bundled(self) -> bool:
        return not self.alone


@dataclass
class MailSlot:
    send_at: datetime
    items: list[MailItem] = field(default_factory=list)

    @property
    def bundled(self) -> bool:
        return any(item.bundled for item in self.items)

    def latest_possible(self) -> datetime | None:
        deadlines = [i.deadline or i.at + MAX_HOLD for i in self.items]
        return min(deadlines) if deadlines else None


@dataclass(frozen=True)
class MailSchedule:
    slots: tuple[MailSlot, ...]
    skipped: tuple[tuple[MailItem, str], ...]

    def send_times(self) -> dict[tuple[str, str], datetime]:
        return {item.key: slot.send_at for slot in self.slots for item in slot.items}

    def skip_reasons(self) -> dict[tuple[str, str], str]:
        return {item.key: reason for item, reason in self.skipped}


def schedule_mail(items: Iterable[MailItem], policy: MailPolicy | None) -> MailSchedule:
    """Send slots for one participant's items under `policy` (None: each at its planned time,
    the behaviour before there was a policy)."""
    ordered = sorted(items, key=lambda i: (i.at, i.order, i.anchor))
    if policy is None:
        return MailSchedule(tuple(MailSlot(i.at, [i]) for i in ordered), ())
    clock = WorkingTime(policy)
    slots: list[MailSlot] = []
    by_day: dict[date, MailSlot] = {}
    placed: dict[tuple[str, str], datetime] = {}
    skipped: list[tuple[MailItem, str]] = []
    dropped: set[tuple[str, str]] = set()
    for item in ordered:
        if item.follows is not None and (item.follows in dropped or item.follows not in placed):
            dropped.add(item.key)
            skipped.append((item, "its first email was not sent"))
            continue
        earliest = item.earliest
        if item.gathers:
            earliest = max(earliest, clock.back(item.at, policy.reach_back))
        if item.follows is not None:
            earliest = max(earliest, placed[item.follows] + REMINDER_GAP)
        limit = item.deadline or item.at + MAX_HOLD
        if not item.bundled:
            when = _alone(clock, item, earliest, limit)
            if when is None:
                dropped.add(item.key)
                skipped.append((item, "no allowed time before it stops being useful"))
                continue
            slots.append(MailSlot(when, [item]))
            placed[item.key] = when
            continue
        slot = _bundle_slot(clock, by_day, item, earliest, limit,
                            flexible=policy.bundle != "off")
        if slot is None:
            dropped.add(item.key)
            skipped.append((item, "no allowed time before it stops being useful"))
            continue
        if slot not in slots:
            slots.append(slot)
        slot.items.append(item)
        placed[item.key] = slot.send_at
    slots.sort(key=lambda s: s.send_at)
    return MailSchedule(tuple(slots), tuple(skipped))


def _alone(clock: WorkingTime, item: MailItem, earliest: datetime,
           limit: datetime) -> datetime | None:
    when = clock.next_allowed(max(item.at, earliest))
    if when < limit:
        return when
    when = clock.previous_allowed(item.at)
    return when if earliest <= when < limit else None


def _bundle_slot(clock: WorkingTime, by_day: dict[date, MailSlot], item: MailItem,
                 earliest: datetime, limit: datetime, flexible: bool) -> MailSlot | None:
    """The day's email this item joins (moving it later within its day if all its items
    allow), a new one on a free day, or None."""
    if flexible:  # an email already going within reach: the nearest to the planned time
        within = [s for s in by_day.values() if earliest <= s.send_at < limit]
        if within:
            return min(within, key=lambda s: abs(s.send_at - item.at))
    when = clock.next_allowed(max(item.at, earliest))
    while when < limit:
        day = clock.day_of(when)
        slot = by_day.get(day)
        if slot is None:
            by_day[day] = slot = MailSlot(when)
            return slot
        if earliest <= slot.send_at:
            return slot
        latest = slot.latest_possible()
        if latest is None or when < latest:
            slot.send_at = when  # later the same day, still in time for what it carries
            return slot
        when = clock.next_allowed(clock._at(day + timedelta(days=1), time(0, 0)))
    # Too late on every day from here: earlier, if the item may go earlier.
    when = clock.previous_allowed(item.at)
    if not earliest <= when < limit:
        return None
    day = clock.day_of(when)
    slot = by_day.get(day)
    if slot is None:
        by_day[day] = slot = MailSlot(when)
        return slot
    return slot if earliest <= slot.send_at < limit else None



def extra_item_time(policy: MailPolicy, earliest: datetime, deadline: datetime | None,
                    taken: Iterable[datetime]) -> datetime | None:
    """When an email that was not planned (a catch-up after an absence) goes to one person,
    under the policy, given the send times of that person's other non-meeting emails
    (`taken`, sent or still to go): it joins the first allowed day's email if one is still to
    go that day (so it arrives inside it), else it goes at that day's first allowed time if
    the day has no email yet, else on the next day. None: no allowed time before `deadline`
    (the dispatcher would only skip it)."""
    clock = WorkingTime(policy)
    days: dict[date, list[datetime]] = {}
    for moment in taken:
        days.setdefault(clock.day_of(moment), []).append(moment)
    when = clock.next_allowed(earliest)
    first = when
    while deadline is None or when < deadline:
        emails = days.get(clock.day_of(when), [])
        still = [t for t in emails if t >= when and (deadline is None or t < deadline)]
        if still:
            return min(still)
        if not emails:
            return when
        if deadline is None and when - first > MAX_HOLD:
            break
        when = clock.next_allowed(clock._at(clock.day_of(when) + timedelta(days=1), time(0)))
    # Every allowed day before the deadline has its email already: the first allowed time
    # rather than none (a second email that day beats missing the meeting's material).
    return first if deadline is None or first < deadline else None
