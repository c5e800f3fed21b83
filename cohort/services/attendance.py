"""Attendance use cases that record marks: by hand, by check-in and by report import, with
the catch-up emails a mark of absence queues. What is counted from the marks (summaries,
the overview's figures, exports) is in `services/attendance_figures.py`.

The pages call these: the facilitator's one-page list (`meeting_sheet`,
`set_marks`, `check_in_code`), the participant's page (`participant_attendance`, `check_in`),
the import with its confirm step (`preview_teams_import` then `apply_teams_import`) and the
outbox when it renders a catch-up email (`catch_up_content`).

Catch-ups: a mark of absent or excused queues one Delivery (kind 'catch_up', anchor
'catch-up:<meeting>') for the participant, unless the next meeting has already begun (the
material would come too late to help). Correcting the mark to present, or clearing it, cancels
the delivery while it is still pending; once sent it stays sent, and a later absence at the
same meeting never sends a second one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from ..core import attendance as core
from ..core.attendance import (
    CATCH_UP,
    CATCH_UP_DELAY,
    MISSED_STATES,
    PRESENT,
    SOURCE_CHECK_IN,
    SOURCE_FACILITATOR,
    SOURCE_IMPORT,
    AttendanceError,
    CatchUpItem,
    CheckInDecision,
    CheckInPolicy,
    Mark,
    MeetingSlot,
)
from ..core.attendance_import import (
    DEFAULT_MIN_PERCENT,
    ImportPlan,
    ImportRefused,
    RosterPerson,
    plan_import,
)
from ..core.teams_attendance import TeamsReport, parse_teams_report
from ..models import Cohort, Delivery, Meeting, Participant, utcnow
from ..models.attendance import Attendance, AttendanceImport, CheckInCode
from ._lookup import NotFound, cohort_meetings, cohort_participants, get_cohort, get_meeting
from .plans import current_plan, extra_item_times


class CheckInRefused(AttendanceError):
    """The participant may not check in now; `decision.reason` says why (nothing is saved)."""

    def __init__(self, decision: CheckInDecision):
        super().__init__(decision.message)
        self.decision = decision


# --- lookups --------------------------------------------------------------------------------

def _marks_of_meeting(session: Session, meeting_id: int) -> dict[int, Attendance]:
    rows = session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    return {row.participant_id: row for row in rows}


def _code_of(session: Session, meeting_id: int) -> str | None:
    return session.scalar(select(CheckInCode.code).where(CheckInCode.meeting_id == meeting_id))


# --- the facilitator's one-page list --------------------------------------------------------

@dataclass(frozen=True)
class SheetRow:
    participant: Participant
    attendance: Attendance | None


@dataclass(frozen=True)
class MeetingSheet:
    cohort: Cohort
    meeting: Meeting
    rows: list[SheetRow]
    code: str | None  # the check-in code, if one has been made


def meeting_sheet(session: Session, cohort_id: int, meeting_key: str) -> MeetingSheet:
    """Every participant of the cohort with their mark for one meeting, by name."""
    cohort = get_cohort(session, cohort_id)
    meeting = get_meeting(session, cohort_id, meeting_key)
    marks = _marks_of_meeting(session, meeting.id)
    rows = [SheetRow(p, marks.get(p.id)) for p in cohort_participants(session, cohort_id)]
    return MeetingSheet(cohort, meeting, rows, _code_of(session, meeting.id))


@dataclass
class MarksResult:
    changed: list[int] = field(default_factory=list)  # participant ids whose mark changed
    kept: list[int] = field(default_factory=list)  # not overwritten (a person's own mark)
    catch_ups_created: int = 0
    catch_ups_cancelled: int = 0


def set_marks(
    session: Session, cohort_id: int, meeting_key: str, marks: Mapping[int, Mark | None],
    recorded_by: str = "", now: datetime | None = None, source: str = SOURCE_FACILITATOR,
) -> MarksResult:
    """Record (or with None, clear) marks for one meeting, keyed by participant id."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    meeting = get_meeting(session, cohort_id, meeting_key)
    return _write_marks(session, cohort, meeting, {pid: (m, None) for pid, m in marks.items()},
                        source, recorded_by, now)


def _write_marks(
    session: Session, cohort: Cohort, meeting: Meeting,
    marks: Mapping[int, tuple[Mark | None, int | None]], source: str, recorded_by: str,
    now: datetime,
) -> MarksResult:
    if source not in core.SOURCES:
        raise AttendanceError(f"unknown source '{source}'")
    people = {p.id: p for p in cohort_participants(session, cohort.id)}
    strangers = sorted(set(marks) - people.keys())
    if strangers:
        raise NotFound(f"participant(s) {', '.join(map(str, strangers))} are not in cohort "
                       f"{cohort.id}")
    for mark, _seconds in marks.values():
        if mark is not None:
            core.check_markable(mark.state, meeting.starts_at, meeting.status == "cancelled",
                                now)
    existing = _marks_of_meeting(session, meeting.id)
    result = MarksResult()
    states: dict[int, str | None] = {}
    for pid, (mark, seconds) in marks.items():
        row = existing.get(pid)
        if source == SOURCE_IMPORT and row is not None and not core.import_may_overwrite(
                row.source):
            result.kept.append(pid)
            continue
        if mark is None:
            if row is not None:
                session.delete(row)
                result.changed.append(pid)
            states[pid] = None
            continue
        if row is None:
            row = Attendance(cohort_id=cohort.id, meeting_id=meeting.id, participant_id=pid,
                             state=mark.state, source=source)
            session.add(row)
        elif (row.state, row.note, row.seconds_in_meeting) == (mark.state, mark.note, seconds):
            states[pid] = row.state
            continue
        row.state, row.note, row.source = mark.state, mark.note, source
        row.seconds_in_meeting = seconds
        row.recorded_at, row.recorded_by = now, recorded_by
        result.changed.append(pid)
        states[pid] = mark.state
    session.flush()
    created, cancelled = _sync_catch_ups(session, cohort, meeting, states, people, now)
    result.catch_ups_created, result.catch_ups_cancelled = created, cancelled
    return result


# --- catch-ups ------------------------------------------------------------------------------

def _next_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    return session.scalars(select(Meeting).where(
        Meeting.cohort_id == meeting.cohort_id, Meeting.status != "cancelled",
        Meeting.starts_at > meeting.starts_at).order_by(Meeting.starts_at)).first()


def _sync_catch_ups(
    session: Session, cohort: Cohort, meeting: Meeting, states: Mapping[int, str | None],
    people: Mapping[int, Participant], now: datetime,
) -> tuple[int, int]:
    """One catch-up per missed meeting and participant; cancelled while pending if corrected."""
    anchor = core.catch_up_anchor(meeting.key)
    existing = {d.recipient: d for d in session.scalars(select(Delivery).where(
        Delivery.cohort_id == cohort.id, Delivery.kind == CATCH_UP, Delivery.anchor == anchor))}
    following = _next_meeting(session, meeting)
    still_useful = following is None or now < following.starts_at
    missed = [people[pid].email for pid, state in states.items() if state in MISSED_STATES]
    times = _catch_up_times(session, cohort, meeting, following, missed, now) \
        if still_useful and missed else {}
    created = cancelled = 0
    for pid, state in states.items():
        person = people[pid]
        row = existing.get(person.email)
        if state in MISSED_STATES:
            if not still_useful:
                continue
            send_at = times[person.email]
            if send_at is None:  # no working hour before the next meeting
                continue
            if row is None:
                session.add(Delivery(cohort_id=cohort.id, participant_id=pid, kind=CATCH_UP,
                                     anchor=anchor, recipient=person.email, send_at=send_at,
                                     state="pending"))
                created += 1
            elif row.state == "cancelled":
                row.state, row.send_at = "pending", send_at
                created += 1
        elif row is not None and row.state == "pending":
            row.state = "cancelled"
            cancelled += 1
    session.flush()
    return created, cancelled


def _catch_up_times(session: Session, cohort: Cohort, meeting: Meeting,
                    following: Meeting | None, recipients: list[str],
                    now: datetime) -> dict[str, datetime | None]:
    """When each person's catch-up goes: at the earliest an hour after the meeting ended and
    the mark was set (time to correct a wrong mark), then as the mail policy allows, inside
    that day's email when one is still to go (core.mailpolicy.extra_item_time); None when no
    working hour is left before the next meeting."""
    earliest = max(meeting.ends_at, now) + CATCH_UP_DELAY
    deadline = following.starts_at if following is not None else None
    return extra_item_times(session, cohort, recipients, earliest, deadline)


def catch_up_content(session: Session, delivery: Delivery,
                     now: datetime | None = None) -> CatchUpItem:
    """What a catch-up email says, from the cohort's current plan (for the outbox's template)."""
    if delivery.kind != CATCH_UP or not delivery.anchor.startswith("catch-up:"):
        raise AttendanceError(f"delivery {delivery.id} is not a catch-up")
    cohort = get_cohort(session, delivery.cohort_id)
    meeting_key = delivery.anchor.removeprefix("catch-up:")
    plan = current_plan(session, cohort)
    if meeting_key not in {m.key for m in plan.meetings}:
        raise NotFound(f"cohort {cohort.id} has no meeting '{meeting_key}'")
    item = core.plan_catch_up(plan, meeting_key, delivery.recipient, now or utcnow())
    return replace(item, send_at=delivery.send_at)


# --- check-in -------------------------------------------------------------------------------

def check_in_code(session: Session, cohort_id: int, meeting_key: str, created_by: str = "",
                  renew: bool = False, now: datetime | None = None) -> str:
    """The meeting's code for the room, made on first use; `renew` replaces a leaked one."""
    meeting = get_meeting(session, cohort_id, meeting_key)
    row = session.scalars(select(CheckInCode).where(
        CheckInCode.meeting_id == meeting.id)).one_or_none()
    if row is None:
        row = CheckInCode(meeting_id=meeting.id, code=core.new_check_in_code())
        session.add(row)
    elif renew:
        old = row.code
        while row.code == old:
            row.code = core.new_check_in_code()
    else:
        return row.code
    row.created_at, row.created_by = now or utcnow(), created_by
    session.flush()
    return row.code


def _slot(session: Session, meeting: Meeting, codes: Mapping[int, str] | None = None
          ) -> MeetingSlot:
    """The meeting as check-in sees it; `codes` (meeting id -> code, for all of a cohort's
    meetings) saves one query per meeting."""
    return _meeting_slot(meeting, codes.get(meeting.id) if codes is not None
                         else _code_of(session, meeting.id))


def _meeting_slot(meeting: Meeting, code: str | None) -> MeetingSlot:
    return MeetingSlot(id=meeting.id, cohort_id=meeting.cohort_id, format=meeting.format,
                       starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                       cancelled=meeting.status == "cancelled", code=code)


def check_in(session: Session, participant_id: int, meeting_id: int, code: str | None,
             now: datetime | None = None, policy: CheckInPolicy | None = None) -> Attendance:
    """The participant marks themselves present; CheckInRefused says why not."""
    now = now or utcnow()
    participant = session.get(Participant, participant_id)
    meeting = session.get(Meeting, meeting_id)
    if participant is None or meeting is None:
        raise NotFound("no such participant or meeting")
    decision = core.decide_check_in(_slot(session, meeting), participant.cohort_id, code, now,
                                    policy)
    if not decision.accepted:
        raise CheckInRefused(decision)
    existing = _marks_of_meeting(session, meeting.id).get(participant.id)
    if existing is not None and existing.state == PRESENT:
        return existing
    cohort = get_cohort(session, meeting.cohort_id)
    _write_marks(session, cohort, meeting, {participant.id: (Mark(PRESENT), None)},
                 SOURCE_CHECK_IN, participant.email, now)
    return _marks_of_meeting(session, meeting.id)[participant.id]


@dataclass(frozen=True)
class OwnMeetingRow:
    meeting: Meeting
    attendance: Attendance | None
    check_in: CheckInDecision  # about the time window (and whether a code exists yet)
    needs_code: bool  # the check-in form must ask for the room code


def participant_attendance(session: Session, participant_id: int, now: datetime | None = None,
                           policy: CheckInPolicy | None = None,
                           meetings: list[Meeting] | None = None) -> list[OwnMeetingRow]:
    """A participant's own record, meeting by meeting, and whether check-in is open now
    (`meetings`: all of the cohort's, by start, if the caller has read them)."""
    now = now or utcnow()
    participant = session.get(Participant, participant_id)
    if participant is None:
        raise NotFound(f"no participant {participant_id}")
    own = {a.meeting_id: a for a in session.scalars(select(Attendance).where(
        Attendance.participant_id == participant_id))}
    if meetings is None:
        meetings = cohort_meetings(session, participant.cohort_id)
    codes = dict(session.execute(select(CheckInCode.meeting_id, CheckInCode.code).where(
        CheckInCode.meeting_id.in_([m.id for m in meetings]))).all())
    return own_meeting_rows(participant.cohort_id, meetings, codes, own, now, policy)


def own_meeting_rows(cohort_id: int, meetings: Sequence[Meeting], codes: Mapping[int, str],
                     own: Mapping[int, Attendance], now: datetime,
                     policy: CheckInPolicy | None = None) -> list[OwnMeetingRow]:
    """`participant_attendance` from rows a caller has read (the participant's page reads
    them with its meetings): the cohort's meetings by start, meeting id -> room code, and
    meeting id -> the participant's attendance."""
    rows = []
    for meeting in meetings:
        slot = _meeting_slot(meeting, codes.get(meeting.id))
        # Judged as if the right code were typed: the page shows whether check-in is open.
        decision = core.decide_check_in(slot, cohort_id, slot.code, now, policy)
        rows.append(OwnMeetingRow(meeting, own.get(meeting.id), decision, slot.requires_code))
    return rows


# --- importing a video-meeting report -------------------------------------------------------

@dataclass(frozen=True)
class ImportPreview:
    meeting: Meeting
    report: TeamsReport
    plan: ImportPlan
    participants: dict[int, Participant]
    kept: dict[int, Attendance]  # marks the import will leave alone (facilitator, check-in)

    @property
    def will_write(self) -> dict[int, core.Mark]:
        return {pid: Mark(m.state, m.note) for pid, m in self.plan.marks.items()
                if pid not in self.kept}


def preview_teams_import(
    session: Session, cohort_id: int, meeting_key: str, data: bytes,
    min_percent: float = DEFAULT_MIN_PERCENT, confirmed_lines: Collection[int] | bool = False,
    assignments: Mapping[int, int] | None = None,
) -> ImportPreview:
    """What importing `data` would do; writes nothing. TeamsReportError for a bad file."""
    cohort = get_cohort(session, cohort_id)
    meeting = get_meeting(session, cohort_id, meeting_key)
    if meeting.status == "cancelled":
        raise ImportRefused(f"meeting '{meeting_key}' is cancelled")
    report = parse_teams_report(data, cohort.timezone, near=meeting.starts_at)
    people = {p.id: p for p in cohort_participants(session, cohort_id)}
    roster = [RosterPerson(p.id, p.name, p.email) for p in people.values()]
    plan = plan_import(report, roster, meeting.starts_at, meeting.ends_at - meeting.starts_at,
                       min_percent, confirmed_lines, assignments)
    kept = {pid: row for pid, row in _marks_of_meeting(session, meeting.id).items()
            if pid in plan.marks and not core.import_may_overwrite(row.source)}
    return ImportPreview(meeting, report, plan, people, kept)


@dataclass(frozen=True)
class ImportOutcome:
    preview: ImportPreview
    result: MarksResult
    import_id: int


def apply_teams_import(
    session: Session, cohort_id: int, meeting_key: str, data: bytes, *,
    filename: str = "", min_percent: float = DEFAULT_MIN_PERCENT,
    confirmed_lines: Collection[int] | bool = False, assignments: Mapping[int, int] | None = None,
    allow_other_date: bool = False, recorded_by: str = "", now: datetime | None = None,
) -> ImportOutcome:
    """Record the marks of a report; a report dated another day is refused unless allowed."""
    now = now or utcnow()
    preview = preview_teams_import(session, cohort_id, meeting_key, data, min_percent,
                                   confirmed_lines, assignments)
    if preview.plan.other_date and not allow_other_date:
        raise ImportRefused(preview.plan.warnings[0])
    if now < preview.meeting.starts_at:
        raise ImportRefused(f"meeting '{meeting_key}' has not taken place yet")
    cohort = get_cohort(session, cohort_id)
    marks = {
        pid: (Mark(m.state, m.note),
              int(m.duration.total_seconds()) if m.duration is not None else None)
        for pid, m in preview.plan.marks.items()
    }
    who = recorded_by or f"import:{filename}"
    result = _write_marks(session, cohort, preview.meeting, marks, SOURCE_IMPORT, who, now)
    log = AttendanceImport(
        cohort_id=cohort_id, meeting_id=preview.meeting.id, filename=filename,
        layout=preview.report.layout, min_percent=min_percent,
        rows=len(preview.report.attendees), marked=len(result.changed),
        unmatched=[_unmatched_row(m) for m in preview.plan.unmatched + preview.plan.to_confirm],
        imported_at=now, imported_by=recorded_by)
    session.add(log)
    session.flush()
    return ImportOutcome(preview, result, log.id)


def _unmatched_row(match) -> dict:
    attendee = match.attendee
    return dict(line=attendee.line, name=attendee.name, email=attendee.email,
                minutes=(round(attendee.duration.total_seconds() / 60)
                         if attendee.duration is not None else None),
                proposed=match.participant_id, candidates=list(match.candidates))
