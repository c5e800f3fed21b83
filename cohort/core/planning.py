"""Programme + start date + time zone (+ per-meeting overrides) -> a dated plan.

Everything is computed in the cohort's local wall-clock time and returned as UTC datetimes,
so a webinar "at 13:00" stays at 13:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .holidays_calendar import days_off, holiday_country
from .mailpolicy import MailPolicy, policy_from_settings
from .programme.schema import Meeting, Programme, Prompt, RepeatedItem, Survey, Task
from .timeexpr import RESERVED_REFS, Anchor


@dataclass(frozen=True)
class MeetingOverride:
    """A facilitator's change to one meeting; `starts_at` naive means cohort-local time."""

    starts_at: datetime | None = None
    duration: timedelta | None = None
    location: str | None = None
    online_url: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class PlannedMeeting:
    key: str
    kind: str
    title: str
    format: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    online_url: str | None
    themes: tuple[str, ...]
    content: tuple[str, ...]
    question: str
    cancelled: bool = False


@dataclass(frozen=True)
class PlannedTask:
    key: str
    template_key: str
    kind: str
    title: str
    description: str
    checklist: tuple[str, ...]
    meeting_key: str
    release_at: datetime
    due_at: datetime | None
    due_meeting_key: str | None
    reminder_at: datetime | None


@dataclass(frozen=True)
class PlannedPrompt:
    key: str
    template_key: str
    meeting_key: str
    question: str
    send_at: datetime


@dataclass(frozen=True)
class PlannedSurvey:
    key: str
    template_key: str
    title: str
    mode: str
    meeting_key: str
    opens_at: datetime
    closes_at: datetime
    reminders: tuple[datetime, ...]


@dataclass(frozen=True)
class Plan:
    timezone: str
    meetings: list[PlannedMeeting]
    tasks: list[PlannedTask] = field(default_factory=list)
    prompts: list[PlannedPrompt] = field(default_factory=list)
    surveys: list[PlannedSurvey] = field(default_factory=list)
    # When participant email may go out (core/mailpolicy.py); None: at the planned times.
    mail: MailPolicy | None = None

    def meeting(self, key: str) -> PlannedMeeting:
        return next(m for m in self.meetings if m.key == key)


def plan_cohort(
    programme: Programme,
    start: date,
    timezone: str | None = None,
    overrides: Mapping[str, MeetingOverride] | None = None,
) -> Plan:
    """The whole dated plan of one cohort."""
    zone_name = timezone or programme.timezone
    overrides = overrides or {}
    meetings = _plan_meetings(programme, start, ZoneInfo(zone_name), overrides)
    context = _Context(meetings, ZoneInfo(zone_name))
    return Plan(
        timezone=zone_name,
        meetings=meetings,
        tasks=[t for item in programme.tasks for t in _plan_task(item, context)],
        prompts=[p for item in programme.prompts for p in _plan_prompt(item, context, programme)],
        surveys=[s for item in programme.surveys for s in _plan_survey(item, context)],
        mail=policy_from_settings(programme.mail, zone_name,
                                  holiday_country(zone_name, programme.language)),
    )


def plan_tasks(
    programme: Programme,
    start: date,
    timezone: str,
    overrides: Mapping[str, MeetingOverride],
    task: Task,
) -> list[PlannedTask]:
    """The dated instances of one task (used to validate templates)."""
    meetings = _plan_meetings(programme, start, ZoneInfo(timezone), overrides)
    return list(_plan_task(task, _Context(meetings, ZoneInfo(timezone))))


def check_due_after_release(programme: Programme) -> Iterator[tuple[tuple, str]]:
    """A template check: no task falls due before it is released, as a field path + message.

    It needs a trial plan, so it lives here rather than with the other checks in
    `programme.checks` (which may not import this module); `cohort.core` hands it over.
    Plan once from a reference date and compare: offsets make order date-independent.
    """
    meeting_keys = {meeting.key for meeting in programme.meetings}
    for index, task in enumerate(programme.tasks):
        if task.due is None:
            continue
        refs = {task.release.ref, task.due.ref} - set(RESERVED_REFS)
        if not refs <= meeting_keys:
            continue
        for planned in plan_tasks(programme, date(2025, 1, 6), programme.timezone, {}, task):
            if planned.due_at is not None and planned.due_at < planned.release_at:
                yield ("tasks", index, "due"), (
                    f"due '{task.due}' comes before release '{task.release}'"
                    + (f" (for meeting '{planned.meeting_key}')" if task.repeat != "once" else "")
                )
                break


def local_datetime(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as UTC; a time inside a DST gap moves forward past it."""
    wall = datetime.combine(day, clock, tzinfo=zone)
    return wall.astimezone(UTC)


def _plan_meetings(
    programme: Programme, start: date, zone: ZoneInfo, overrides: Mapping[str, MeetingOverride]
) -> list[PlannedMeeting]:
    planned = [_plan_meeting(programme, m, start, zone, overrides.get(m.key)) for m in
               programme.meetings]
    return sorted(planned, key=lambda m: m.starts_at)


def _plan_meeting(
    programme: Programme, meeting: Meeting, start: date, zone: ZoneInfo,
    override: MeetingOverride | None,
) -> PlannedMeeting:
    override = override or MeetingOverride()
    if override.starts_at is None:
        starts_at = local_datetime(
            start + timedelta(days=meeting.offset), programme.meeting_start(meeting), zone
        )
    elif override.starts_at.tzinfo is None:
        starts_at = local_datetime(override.starts_at.date(), override.starts_at.time(), zone)
    else:
        starts_at = override.starts_at.astimezone(UTC)
    duration = override.duration or programme.meeting_duration(meeting)
    return PlannedMeeting(
        key=meeting.key,
        kind=meeting.kind,
        title=meeting.title,
        format=programme.meeting_format(meeting),
        starts_at=starts_at,
        ends_at=starts_at + duration,
        location=override.location if override.location is not None else meeting.location,
        online_url=override.online_url if override.online_url is not None else meeting.online_url,
        themes=tuple(meeting.themes),
        content=tuple(meeting.content),
        question=meeting.question,
        cancelled=override.cancelled,
    )


class _Context:
    """Resolves anchors against the dated meetings of one cohort."""

    def __init__(self, meetings: list[PlannedMeeting], zone: ZoneInfo):
        self.by_key = {m.key: m for m in meetings}
        self.active = [m for m in meetings if not m.cancelled]
        self.zone = zone

    def instances(self, item: RepeatedItem) -> list[PlannedMeeting | None]:
        """The meetings an item is repeated for, or [None] for a one-off item."""
        if item.repeat == "once":
            return [None]
        return [m for m in self.active if not item.kinds or m.kind in item.kinds]

    def meeting_for(self, ref: str, current: PlannedMeeting | None) -> PlannedMeeting | None:
        if ref == "meeting":
            return current
        if ref in ("next", "previous"):
            if current is None or current not in self.active:
                return None
            index = self.active.index(current) + (1 if ref == "next" else -1)
            return self.active[index] if 0 <= index < len(self.active) else None
        if ref in ("first", "last"):
            if not self.active:
                return None
            return self.active[0] if ref == "first" else self.active[-1]
        return self.by_key.get(ref)

    def resolve(self, anchor: Anchor, current: PlannedMeeting | None) -> datetime | None:
        meeting = self.meeting_for(anchor.ref, current)
        if meeting is None:
            return None
        base = meeting.starts_at if anchor.edge == "start" else meeting.ends_at
        return self.shift(base, anchor.shift, anchor.at)

    def shift(self, base: datetime, delta: timedelta, at: time | None) -> datetime:
        """Move in local wall-clock time, then optionally set the local time of day."""
        wall = base.astimezone(self.zone).replace(tzinfo=None) + delta
        return local_datetime(wall.date(), at or wall.time(), self.zone)


def _instance_key(item: RepeatedItem, meeting: PlannedMeeting | None) -> str:
    return item.key if meeting is None else f"{item.key}@{meeting.key}"


def _plan_task(task: Task, ctx: _Context):
    for current in ctx.instances(task):
        release_at = ctx.resolve(task.release, current)
        if release_at is None:
            continue
        due_at = ctx.resolve(task.due, current) if task.due else None
        if task.due and due_at is None:
            continue  # e.g. "before the next meeting" after the last meeting
        reminder_at = None
        if due_at is not None and task.reminder is not None:
            reminder_at = ctx.shift(due_at, *task.reminder)
        release_meeting = ctx.meeting_for(task.release.ref, current)
        due_meeting = ctx.meeting_for(task.due.ref, current) if task.due else None
        yield PlannedTask(
            key=_instance_key(task, current),
            template_key=task.key,
            kind=task.kind,
            title=task.title,
            description=task.description,
            checklist=tuple(task.checklist),
            meeting_key=release_meeting.key,
            release_at=release_at,
            due_at=due_at,
            due_meeting_key=due_meeting.key if due_meeting else None,
            reminder_at=reminder_at,
        )


def _plan_prompt(prompt: Prompt, ctx: _Context, programme: Programme):
    for current in ctx.instances(prompt):
        send_at = ctx.resolve(prompt.send, current)
        if send_at is None:
            continue
        meeting = ctx.meeting_for(prompt.send.ref, current)
        question = meeting.question if prompt.use_leading_question else prompt.question
        if not question:
            continue
        yield PlannedPrompt(
            key=_instance_key(prompt, current),
            template_key=prompt.key,
            meeting_key=meeting.key,
            question=question,
            send_at=send_at,
        )


def _plan_survey(survey: Survey, ctx: _Context):
    for current in ctx.instances(survey):
        opens_at = ctx.resolve(survey.open, current)
        if opens_at is None:
            continue
        yield PlannedSurvey(
            key=_instance_key(survey, current),
            template_key=survey.key,
            title=survey.title,
            mode=survey.mode,
            meeting_key=ctx.meeting_for(survey.open.ref, current).key,
            opens_at=opens_at,
            closes_at=ctx.shift(opens_at, *survey.close),
            reminders=tuple(ctx.shift(opens_at, *r) for r in survey.reminders),
        )


def free_day_name(day: date, country: str | None) -> str | None:
    """Why nobody would plan a meeting on `day`: "Saturday", "Sunday", a holiday's name (or a
    day most workplaces close anyway, such as Christmas Eve in Denmark)."""
    if day.weekday() >= 5:
        return "Saturday" if day.weekday() == 5 else "Sunday"
    return days_off(country, [day.year]).get(day) if country else None


def working_day_overrides(plan: Plan, language: str) -> dict[str, MeetingOverride]:
    """Overrides that move each meeting on a weekend or holiday to the next working day at the
    same local time (for generated cohorts such as the demo; a facilitator decides by hand)."""
    zone = ZoneInfo(plan.timezone)
    country = holiday_country(plan.timezone, language)
    overrides = {}
    for meeting in plan.meetings:
        local = meeting.starts_at.astimezone(zone)
        day = local.date()
        while free_day_name(day, country):
            day += timedelta(days=1)
        if day != local.date():
            overrides[meeting.key] = MeetingOverride(
                starts_at=datetime.combine(day, local.time(), zone))
    return overrides
