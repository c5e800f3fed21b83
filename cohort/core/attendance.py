"""Attendance: marks, check-in rules, short codes, summaries and catch-up plans, as plain data.

Vocabulary
- A *mark* is one participant's attendance at one meeting: present, absent or excused, with
  an optional note. It comes from a facilitator (the one-page list), from the participant's own
  check-in, or from an imported video-meeting report.
- *Missed* means absent or excused: both leave the participant without the meeting's content,
  so both get a catch-up and both count towards "missed twice or more" follow-up.
- *Check-in* is the participant marking themselves present from their own page. It is open from
  shortly before the meeting starts until a grace period after it ends; for in-person meetings
  (and for any meeting where the facilitator has shown a code) it needs the short code the
  facilitator shows in the room, which proves the person is there rather than at their desk.

Everything here takes an explicit `now` and touches no database.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .planning import Plan, PlannedMeeting, local_datetime

PRESENT = "present"
ABSENT = "absent"
EXCUSED = "excused"
STATES: tuple[str, ...] = (PRESENT, ABSENT, EXCUSED)
MISSED_STATES: frozenset[str] = frozenset({ABSENT, EXCUSED})

# Where a mark came from. Import never overwrites a facilitator's mark (they know about the
# participant who joined by phone, or who was ill); a later facilitator mark always wins.
SOURCE_FACILITATOR = "facilitator"
SOURCE_CHECK_IN = "check_in"
SOURCE_IMPORT = "import"
SOURCES: tuple[str, ...] = (SOURCE_FACILITATOR, SOURCE_CHECK_IN, SOURCE_IMPORT)

CATCH_UP = "catch_up"  # the Delivery.kind of a catch-up email
DEFAULT_MIN_GROUP = 5  # figures about fewer people than this are not shown in the report
FOLLOW_UP_AFTER = 2  # missed meetings before a participant appears on the follow-up list

NOTE_MAX = 500


class AttendanceError(ValueError):
    """A mark that cannot be recorded (unknown state, cancelled or future meeting)."""


@dataclass(frozen=True)
class Mark:
    state: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise AttendanceError(
                f"'{self.state}' is not an attendance state (use {', '.join(STATES)})")
        if len(self.note) > NOTE_MAX:
            raise AttendanceError(f"a note is at most {NOTE_MAX} characters")

    @property
    def missed(self) -> bool:
        return self.state in MISSED_STATES


def import_may_overwrite(existing_source: str | None) -> bool:
    """An imported report fills gaps and refreshes earlier imports, never a person's own mark."""
    return existing_source in (None, SOURCE_IMPORT)


def check_markable(state: str, starts_at: datetime, cancelled: bool, now: datetime,
                   policy: CheckInPolicy | None = None) -> None:
    """Present/absent only once a meeting is (about to be) under way; excused at any time."""
    if cancelled:
        raise AttendanceError("the meeting is cancelled; there is no attendance to record")
    policy = policy or CheckInPolicy()
    if state != EXCUSED and now < starts_at - policy.open_before:
        raise AttendanceError(
            f"the meeting has not started yet; only '{EXCUSED}' can be recorded in advance")


# --- check-in -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckInPolicy:
    """When check-in is open: `open_before` the start until `grace` after the end."""

    open_before: timedelta = timedelta(minutes=15)
    grace: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class MeetingSlot:
    """What the check-in rules need to know about a meeting."""

    id: int
    cohort_id: int
    format: str  # "online" | "in_person"
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False
    code: str | None = None  # the code the facilitator shows, when one has been made

    @property
    def requires_code(self) -> bool:
        return self.format == "in_person" or self.code is not None


# Reasons a check-in is refused (stable codes for the web page's messages).
OPEN = "open"
TOO_EARLY = "too_early"
TOO_LATE = "too_late"
WRONG_CODE = "wrong_code"
NO_CODE_YET = "no_code_yet"
NOT_YOUR_MEETING = "not_your_meeting"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class CheckInDecision:
    reason: str  # OPEN or one of the refusal codes
    opens_at: datetime
    closes_at: datetime

    @property
    def accepted(self) -> bool:
        return self.reason == OPEN

    @property
    def message(self) -> str:
        return _CHECK_IN_MESSAGES[self.reason].format(
            opens=self.opens_at.isoformat(timespec="minutes"),
            closes=self.closes_at.isoformat(timespec="minutes"))


_CHECK_IN_MESSAGES = {
    OPEN: "checked in",
    TOO_EARLY: "check-in opens at {opens}",
    TOO_LATE: "check-in closed at {closes}",
    WRONG_CODE: "that is not the code shown in the room",
    NO_CODE_YET: "the facilitator has not shown a check-in code for this meeting yet",
    NOT_YOUR_MEETING: "this meeting is not in your course",
    CANCELLED: "the meeting is cancelled",
}


def check_in_window(slot: MeetingSlot, policy: CheckInPolicy) -> tuple[datetime, datetime]:
    return slot.starts_at - policy.open_before, slot.ends_at + policy.grace


def decide_check_in(
    slot: MeetingSlot, participant_cohort_id: int, code: str | None, now: datetime,
    policy: CheckInPolicy | None = None,
) -> CheckInDecision:
    """Whether a participant may check in now; the first rule that fails is the answer."""
    policy = policy or CheckInPolicy()
    opens_at, closes_at = check_in_window(slot, policy)

    def decision(reason: str) -> CheckInDecision:
        return CheckInDecision(reason, opens_at, closes_at)

    if slot.cohort_id != participant_cohort_id:
        return decision(NOT_YOUR_MEETING)
    if slot.cancelled:
        return decision(CANCELLED)
    if now < opens_at:
        return decision(TOO_EARLY)
    if now > closes_at:
        return decision(TOO_LATE)
    if slot.requires_code:
        if slot.code is None:
            return decision(NO_CODE_YET)
        if not codes_match(slot.code, code):
            return decision(WRONG_CODE)
    return decision(OPEN)


# --- short codes ----------------------------------------------------------------------------

# Random (not derived from a secret) and stored per meeting, so a facilitator can make a new one
# if it leaks, and changing the app's secret key never invalidates slides already shown.
# The alphabet leaves out characters that look or sound alike when read off a screen or aloud
# in Danish, Norwegian or English: 0/O/Q/D, 1/I/L, 2/Z, 5/S, 6/G/B, 8/B, U/V, M/N.
CODE_ALPHABET = "ACEFHJKPRTWXY3479"
CODE_LENGTH = 6


def new_check_in_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """Six characters (about 24 million codes), shown grouped as "K7H-4PX" for reading aloud."""
    return "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(value: str | None) -> str:
    """What a participant typed, without case, spaces and dashes."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def codes_match(expected: str, typed: str | None) -> bool:
    return secrets.compare_digest(normalise_code(expected), normalise_code(typed))


# --- summaries ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeetingInfo:
    key: str
    title: str
    kind: str
    starts_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str
    email: str
    organisation: str = ""


@dataclass(frozen=True)
class MeetingFigures:
    key: str
    title: str
    present: int
    absent: int
    excused: int
    unmarked: int

    @property
    def marked(self) -> int:
        return self.present + self.absent + self.excused

    @property
    def recorded(self) -> bool:
        return self.marked > 0


@dataclass(frozen=True)
class PersonFigures:
    person: PersonInfo
    marks: dict[str, str | None]  # meeting key -> state (None: not recorded)
    missed: tuple[str, ...]  # keys of meetings missed (absent or excused)

    def count(self, state: str) -> int:
        return sum(1 for s in self.marks.values() if s == state)

    @property
    def follow_up(self) -> bool:
        return len(self.missed) >= FOLLOW_UP_AFTER


@dataclass(frozen=True)
class ReportFigure:
    """A figure for the evaluation report; `value` is None when suppressed (base < min_group)."""

    value: float | int | None
    base: int  # how many people the figure is about
    suppressed: bool


@dataclass(frozen=True)
class AttendanceSummary:
    meetings: list[MeetingFigures]
    people: list[PersonFigures]
    recorded_meetings: tuple[str, ...]
    min_group: int
    rates: dict[str, ReportFigure] = field(default_factory=dict)  # per recorded meeting
    # how many participants attended k of the recorded meetings, k = 0..len(recorded_meetings)
    distribution: dict[int, int] | None = None
    distribution_base: int = 0

    @property
    def follow_up(self) -> list[PersonFigures]:
        return [p for p in self.people if p.follow_up]

    def published(self, key: str) -> bool:
        """Whether a meeting's attendance figures may be shown to anyone but its facilitators:
        recorded, and for `min_group` people or more. The one rule of the report, the
        evaluation overview and the evaluators' export, so none shows what another hides."""
        rate = self.rates.get(key)
        return rate is not None and not rate.suppressed


def summarise(
    meetings: Sequence[MeetingInfo],
    people: Sequence[PersonInfo],
    marks: Mapping[tuple[str, int], str],
    min_group: int = DEFAULT_MIN_GROUP,
) -> AttendanceSummary:
    """Figures per meeting and per participant, and the report's figures with small-group rule.

    A meeting's rate is present / marked (excused counts as not attended); meetings nobody has
    recorded yet have no rate. The distribution counts, over the participants with a mark at
    every recorded meeting, how many meetings each attended. A report figure about fewer than
    `min_group` people is suppressed, because in a small group it points at individuals.
    """
    active = [m for m in sorted(meetings, key=lambda m: m.starts_at) if not m.cancelled]
    figures = [_meeting_figures(m, people, marks) for m in active]
    recorded = tuple(f.key for f in figures if f.recorded)
    person_figures = [_person_figures(p, active, marks) for p in people]
    rates = {f.key: _figure(f.present / f.marked, f.marked, min_group)
             for f in figures if f.recorded}
    complete = [p for p in person_figures if all(p.marks[k] is not None for k in recorded)]
    distribution = None
    if recorded and len(complete) >= min_group:
        distribution = {k: 0 for k in range(len(recorded) + 1)}
        for p in complete:
            distribution[sum(1 for k in recorded if p.marks[k] == PRESENT)] += 1
    return AttendanceSummary(
        meetings=figures, people=person_figures, recorded_meetings=recorded,
        min_group=min_group, rates=rates, distribution=distribution,
        distribution_base=len(complete),
    )


def _figure(value: float, base: int, min_group: int) -> ReportFigure:
    if base < min_group:
        return ReportFigure(None, base, True)
    return ReportFigure(value, base, False)


def _meeting_figures(meeting: MeetingInfo, people: Sequence[PersonInfo],
                     marks: Mapping[tuple[str, int], str]) -> MeetingFigures:
    states = [marks.get((meeting.key, p.id)) for p in people]
    return MeetingFigures(
        key=meeting.key, title=meeting.title,
        present=states.count(PRESENT), absent=states.count(ABSENT),
        excused=states.count(EXCUSED), unmarked=states.count(None),
    )


def _person_figures(person: PersonInfo, meetings: Sequence[MeetingInfo],
                    marks: Mapping[tuple[str, int], str]) -> PersonFigures:
    own = {m.key: marks.get((m.key, person.id)) for m in meetings}
    missed = tuple(k for k, state in own.items() if state in MISSED_STATES)
    return PersonFigures(person=person, marks=own, missed=missed)


# --- catch-up -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatchUpTask:
    key: str
    title: str
    description: str
    checklist: tuple[str, ...]
    due_at: datetime | None


@dataclass(frozen=True)
class CatchUpItem:
    """One catch-up email: what the missed meeting covered and what is due before the next."""

    kind: str
    anchor: str
    recipient: str
    send_at: datetime
    meeting_key: str
    meeting_title: str
    meeting_starts_at: datetime
    themes: tuple[str, ...]
    content: tuple[str, ...]
    question: str
    tasks: tuple[CatchUpTask, ...]
    next_meeting_key: str | None
    next_meeting_title: str | None
    next_meeting_starts_at: datetime | None

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.kind, self.anchor, self.recipient)


# A catch-up waits at least this long after the meeting and the mark: time to correct a mark.
CATCH_UP_DELAY = timedelta(hours=1)


def catch_up_anchor(meeting_key: str) -> str:
    return f"catch-up:{meeting_key}"


def catch_up_send_at(
    meeting_ends_at: datetime, now: datetime, timezone: str,
    clock: time = time(8, 0), min_delay: timedelta = CATCH_UP_DELAY,
) -> datetime:
    """The first local `clock` at least `min_delay` after the meeting ended and the mark was set.

    The delay leaves the facilitator time to correct a wrong mark before anything is sent; the
    morning hour matches when the programme's own between-meeting tasks are released.
    """
    zone = ZoneInfo(timezone)
    earliest = max(meeting_ends_at, now) + min_delay
    day = earliest.astimezone(zone).date()
    candidate = local_datetime(day, clock, zone)
    if candidate < earliest:
        candidate = local_datetime(day + timedelta(days=1), clock, zone)
    return candidate.astimezone(UTC)


def plan_catch_up(
    plan: Plan, meeting_key: str, recipient: str, now: datetime,
    clock: time = time(8, 0), min_delay: timedelta = timedelta(hours=1),
) -> CatchUpItem:
    """The catch-up for one participant who missed `meeting_key`."""
    meeting = plan.meeting(meeting_key)
    following = _next_meeting(plan.meetings, meeting)
    tasks = tuple(
        CatchUpTask(t.key, t.title, t.description, t.checklist, t.due_at)
        for t in plan.tasks if t.meeting_key == meeting_key
    )
    return CatchUpItem(
        kind=CATCH_UP, anchor=catch_up_anchor(meeting_key), recipient=recipient,
        send_at=catch_up_send_at(meeting.ends_at, now, plan.timezone, clock, min_delay),
        meeting_key=meeting.key, meeting_title=meeting.title,
        meeting_starts_at=meeting.starts_at, themes=meeting.themes, content=meeting.content,
        question=meeting.question, tasks=tasks,
        next_meeting_key=following.key if following else None,
        next_meeting_title=following.title if following else None,
        next_meeting_starts_at=following.starts_at if following else None,
    )


def _next_meeting(meetings: Iterable[PlannedMeeting],
                  meeting: PlannedMeeting) -> PlannedMeeting | None:
    later = [m for m in meetings if not m.cancelled and m.starts_at > meeting.starts_at]
    return min(later, key=lambda m: m.starts_at) if later else None
