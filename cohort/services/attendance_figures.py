"""Attendance counted from the marks: the summary for the report and the CLI
(`attendance_summary`, `attendance_as_dict`), the cohort overview's figures counted in the
database (`attendance_overview`), the facilitators' exports per person
(`export_attendance_csv/xlsx`) and the evaluators' per meeting (`attendance_per_meeting`).

Apart from `services/attendance.py`, which records the marks: this module only reads them.
The rules of counting (what is missed, who needs a follow-up, small-group suppression) are
the core's (`core.attendance.summarise`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from ..core import attendance as core
from ..core.attendance import (
    DEFAULT_MIN_GROUP,
    FOLLOW_UP_AFTER,
    MISSED_STATES,
    PRESENT,
    AttendanceSummary,
    MeetingFigures,
    MeetingInfo,
    PersonInfo,
)
from ..core.spreadsheets import Table, to_csv, to_xlsx
from ..models import Meeting, Participant
from ..models.attendance import Attendance
from ._lookup import cohort_meetings, cohort_participants, get_cohort
from .surveys import min_group_size_of


def attendance_summary(session: Session, cohort_id: int,
                       min_group: int = DEFAULT_MIN_GROUP) -> AttendanceSummary:
    """Per meeting, per participant, follow-up list and the report's figures."""
    get_cohort(session, cohort_id)
    return _summary(session, cohort_id, cohort_meetings(session, cohort_id), min_group)


def _summary(session: Session, cohort_id: int, rows: Collection[Meeting],
             min_group: int) -> AttendanceSummary:
    meetings = [MeetingInfo(m.key, m.title, m.kind, m.starts_at, m.status == "cancelled")
                for m in rows]
    people = [PersonInfo(p.id, p.name, p.email, p.organisation)
              for p in cohort_participants(session, cohort_id)]
    marks = {(key, pid): state for key, pid, state in session.execute(
        select(Meeting.key, Attendance.participant_id, Attendance.state)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.cohort_id == cohort_id))}
    return core.summarise(meetings, people, marks, min_group)


PER_MEETING_COLUMNS = ("meeting", "title", "date", "participants", "recorded", "present",
                       "absent", "excused", "attendance")


def attendance_per_meeting(session: Session, cohort_id: int) -> Table:
    """The evaluators' export behind the report's attendance figures: one row per recorded
    meeting, counts only (no one's name or mark: those are the facilitators'), with the
    report's rule for small groups (`AttendanceSummary.published`, the cohort's minimum
    group size): of a meeting recorded for fewer people, only how many were recorded, as
    the report's "what is not shown" table says. The date is the meeting's day in the
    cohort's time zone, as in the report; the attendance is present of recorded."""
    zone = ZoneInfo(get_cohort(session, cohort_id).timezone)
    meetings = cohort_meetings(session, cohort_id)
    days = {m.key: m.starts_at.astimezone(zone).date() for m in meetings}
    summary = _summary(session, cohort_id, meetings, min_group_size_of(session, cohort_id))
    rows = []
    for f in summary.meetings:
        if not f.recorded:
            continue
        counts: list = [f.present, f.absent, f.excused, round(f.present / f.marked, 4)]
        if not summary.published(f.key):
            counts = [None] * len(counts)
        rows.append([f.key, f.title, days[f.key], f.marked + f.unmarked, f.marked, *counts])
    return Table("Attendance per meeting", list(PER_MEETING_COLUMNS), rows)


@dataclass(frozen=True)
class AttendanceOverview:
    """The cohort overview's part of the summary, counted in the database: figures per
    meeting and who missed FOLLOW_UP_AFTER meetings or more (same rules as `summarise`)."""

    meetings: list[MeetingFigures]
    follow_up: list[PersonInfo]

    @property
    def recorded_meetings(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.meetings if f.recorded)


def attendance_overview(session: Session, cohort_id: int,
                        meetings: Collection[Meeting] | None = None,
                        people: int | None = None) -> AttendanceOverview:
    """Per-meeting figures and the follow-up list without loading every mark: a cohort of
    thousands has tens of thousands of marks and the overview shows a handful of numbers.
    `meetings` (the cohort's) and `people` (its participant count, erased ones too), if the
    caller has them, save a query each."""
    if meetings is None:
        meetings = cohort_meetings(session, cohort_id)
    active = sorted((m for m in meetings if m.status != "cancelled"),
                    key=lambda m: m.starts_at)
    if people is None:
        people = session.scalar(select(func.count()).select_from(Participant)
                                .where(Participant.cohort_id == cohort_id)) or 0
    counts: dict[tuple[int, str], int] = {
        (meeting_id, state): n for meeting_id, state, n in session.execute(
            select(Attendance.meeting_id, Attendance.state, func.count())
            .where(Attendance.cohort_id == cohort_id)
            .group_by(Attendance.meeting_id, Attendance.state))}
    figures = []
    for m in active:
        present, absent, excused = (counts.get((m.id, state), 0)
                                    for state in (PRESENT, core.ABSENT, core.EXCUSED))
        figures.append(MeetingFigures(m.key, m.title, present, absent, excused,
                                      people - present - absent - excused))
    missed = (select(Attendance.participant_id)
              .where(Attendance.cohort_id == cohort_id,
                     Attendance.meeting_id.in_([m.id for m in active]),
                     Attendance.state.in_(MISSED_STATES))
              .group_by(Attendance.participant_id)
              .having(func.count() >= FOLLOW_UP_AFTER))
    follow_up = [PersonInfo(p.id, p.name, p.email, p.organisation) for p in session.execute(
        select(Participant.id, Participant.name, Participant.email, Participant.organisation)
        .where(Participant.id.in_(missed)).order_by(Participant.name, Participant.id))]
    return AttendanceOverview(figures, follow_up)


def attendance_as_dict(session: Session, cohort_id: int,
                       min_group: int = DEFAULT_MIN_GROUP) -> dict:
    """The summary as JSON-ready data (`cohort attendance COHORT --json`)."""
    summary = attendance_summary(session, cohort_id, min_group)
    return {
        "cohort": cohort_id,
        "min_group": min_group,
        "meetings": [dict(key=f.key, title=f.title, recorded=f.recorded, present=f.present,
                          absent=f.absent, excused=f.excused, unmarked=f.unmarked,
                          rate=_rate(summary.rates.get(f.key)),
                          suppressed=bool(summary.rates.get(f.key)
                                          and summary.rates[f.key].suppressed))
                     for f in summary.meetings],
        "participants": [dict(name=p.person.name, email=p.person.email,
                              organisation=p.person.organisation, present=p.count(PRESENT),
                              absent=p.count(core.ABSENT), excused=p.count(core.EXCUSED),
                              missed=list(p.missed), follow_up=p.follow_up, marks=p.marks)
                         for p in summary.people],
        "follow_up": [p.person.email for p in summary.follow_up],
        "distribution": (None if summary.distribution is None else
                         [dict(attended=k, participants=n)
                          for k, n in summary.distribution.items()]),
        "distribution_base": summary.distribution_base,
    }


def _rate(figure) -> float | None:
    return None if figure is None or figure.value is None else round(figure.value, 4)


_EXPORT_COLUMNS = ("name", "email", "organisation")


def export_rows(session: Session, cohort_id: int,
                summary: AttendanceSummary | None = None) -> tuple[list[str], list[list]]:
    """One row per participant, one column per meeting with the state, then the totals."""
    summary = summary or attendance_summary(session, cohort_id, min_group=0)
    keys = [f.key for f in summary.meetings]
    header = [*_EXPORT_COLUMNS, *keys, "present", "missed"]
    rows = [[p.person.name, p.person.email, p.person.organisation,
             *[p.marks[k] or "" for k in keys], p.count(PRESENT), len(p.missed)]
            for p in summary.people]
    return header, rows


def export_attendance_csv(session: Session, cohort_id: int) -> bytes:
    """UTF-8 with BOM and ';' so Danish and Norwegian Excel open it as it is (no formulas:
    `core.spreadsheets`)."""
    return to_csv(Table("Attendance", *export_rows(session, cohort_id)))


def export_attendance_xlsx(session: Session, cohort_id: int) -> bytes:
    """A workbook: 'Attendance' (participants x meetings) and 'Meetings' (figures per meeting)."""
    summary = attendance_summary(session, cohort_id, min_group=0)
    meetings = Table("Meetings", ["meeting", "title", "present", "absent", "excused", "unmarked",
                                  "rate"])
    for f in summary.meetings:
        rate = summary.rates.get(f.key)
        meetings.rows.append([f.key, f.title, f.present, f.absent, f.excused, f.unmarked,
                              None if rate is None else round(rate.value, 4)])
    return to_xlsx([Table("Attendance", *export_rows(session, cohort_id, summary)), meetings])
