"""Data protection: what is stored about a participant (export), erasing it, and retention.

Erasure keeps what the cohort's results are made of and removes who it was: the participant
row stays as an unnamed placeholder (`erased_at` set; name, email, organisation and role
gone), so response rates, attendance figures, task completion, buddy rounds and
self-assessment results do not change, and anonymous answers are never touched (nothing links
them to anyone). Removed: personal links and the calendar feed (every token), prompt answers
and task notes (their own words), group memberships (the live groups; the released buddy
rounds keep the pairs they were released with, frozen first: services/frozen_rounds.py),
attendance notes and buddy check-in notes, the address in every email row, their name and
address wherever the activity log quoted them -- earlier addresses and names included -- and
the rows of imported Teams reports that named them. The log then records that an erasure
happened, not what was erased.

Buddy check-ins are identified answers, like attendance marks, not anonymous survey answers:
they are kept (met, not yet, could not) with the note blanked and no longer shared, tied to
the placeholder row, so the rounds' figures do not change and nothing links any anonymous
answer to a person.

Retention: `purge_ended_cohorts` erases every participant of the cohorts that ended more than
a given number of days ago (`cohort purge --older-than DAYS`, or COHORT_RETENTION_DAYS, which
the scheduler applies once a day), and deletes the files uploaded as their meetings' materials
(slides may show participants; `materials.delete_cohort_files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.attendance_import import name_keys
from ..core.participants import normalise_email
from ..models import (
    ActivityEntry,
    Attendance,
    AttendanceImport,
    BuddyCheckIn,
    CalendarFeed,
    Cohort,
    Delivery,
    FrozenBuddyMember,
    Group,
    GroupMember,
    IdentifiedResponse,
    Invitation,
    Meeting,
    Participant,
    ParticipantLink,
    Prompt,
    PromptAnswer,
    Survey,
    Task,
    TaskStatus,
    User,
)
from . import activity
from ._lookup import NotFound, cohort_ends_at, get_cohort
from .frozen_rounds import freeze_released_rounds
from .materials import MaterialStore, delete_cohort_files

ERASED_NAME = "(erased)"
ERASED_TEXT = "[erased]"


def find_participant(session: Session, cohort_id: int, email: str) -> Participant:
    get_cohort(session, cohort_id)
    participant = session.scalars(select(Participant).where(
        Participant.cohort_id == cohort_id, Participant.email == normalise_email(email),
        Participant.erased_at.is_(None))).one_or_none()
    if participant is None:
        raise NotFound(f"cohort {cohort_id} has no participant '{email}'")
    return participant


# --- export ---------------------------------------------------------------------------------

def participant_export(session: Session, participant: Participant, now: datetime) -> dict:
    """Everything stored about one participant, as JSON-ready data (not their anonymous
    answers: nothing links those to them)."""
    cohort = get_cohort(session, participant.cohort_id)
    pid = participant.id
    return {
        "exported_at": _iso(now),
        "cohort": {"id": cohort.id, "title": cohort.title, "programme": cohort.programme_id,
                   "start_date": cohort.start_date.isoformat(), "timezone": cohort.timezone},
        "participant": {"id": pid, "name": participant.name, "email": participant.email,
                        "organisation": participant.organisation, "role": participant.role,
                        "language": participant.language,
                        "created_at": _iso(participant.created_at)},
        "groups": [{"grouping": g.grouping_key, "rotation": g.rotation, "number": g.number}
                   for g in session.scalars(select(Group).join(
                       GroupMember, GroupMember.group_id == Group.id)
                       .where(GroupMember.participant_id == pid)
                       .order_by(Group.grouping_key, Group.rotation))],
        "buddy_rounds": [{"task": task.key, "title": task.title, "grouping": member.grouping_key,
                          "rotation": member.rotation, "number": member.number}
                         for member, task in session.execute(select(
                             FrozenBuddyMember, Task).join(
                             Task, Task.id == FrozenBuddyMember.task_id)
                             .where(FrozenBuddyMember.participant_id == pid)
                             .order_by(Task.release_at, Task.id,
                                       FrozenBuddyMember.grouping_key))],
        "tasks": [{"task": task.key, "title": task.title, "done_at": _iso(status.done_at),
                   "note": status.note, "updated_at": _iso(status.updated_at)}
                  for status, task in session.execute(select(TaskStatus, Task).join(
                      Task, Task.id == TaskStatus.task_id)
                      .where(TaskStatus.participant_id == pid).order_by(Task.release_at))],
        "buddy_check_ins": [{"task": task.key, "title": task.title, "answer": check_in.answer,
                             "note": check_in.note, "shared": check_in.shared,
                             "updated_at": _iso(check_in.updated_at)}
                            for check_in, task in session.execute(select(
                                BuddyCheckIn, Task).join(Task, Task.id == BuddyCheckIn.task_id)
                                .where(BuddyCheckIn.participant_id == pid)
                                .order_by(Task.release_at, Task.id))],
        "prompt_answers": [{"prompt": prompt.key, "question": prompt.question,
                            "answer": answer.answer, "updated_at": _iso(answer.updated_at)}
                           for answer, prompt in session.execute(select(
                               PromptAnswer, Prompt).join(Prompt,
                                                          Prompt.id == PromptAnswer.prompt_id)
                               .where(PromptAnswer.participant_id == pid)
                               .order_by(Prompt.send_at))],
        "survey_invitations": [{"survey": survey.key, "title": survey.title,
                                "mode": survey.mode, "completed": invitation.completed}
                               for invitation, survey in session.execute(select(
                                   Invitation, Survey).join(Survey,
                                                            Survey.id == Invitation.survey_id)
                                   .where(Invitation.participant_id == pid)
                                   .order_by(Survey.opens_at))],
        "identified_answers": [{"survey": survey.key, "title": survey.title,
                                "submitted_at": _iso(response.submitted_at),
                                "answers": response.answers, "source": response.source}
                               for response, survey in session.execute(select(
                                   IdentifiedResponse, Survey).join(
                                   Survey, Survey.id == IdentifiedResponse.survey_id)
                                   .where(IdentifiedResponse.participant_id == pid)
                                   .order_by(Survey.opens_at))],
        "attendance": [{"meeting": meeting.key, "title": meeting.title, "state": mark.state,
                        "note": mark.note, "source": mark.source,
                        "seconds_in_meeting": mark.seconds_in_meeting,
                        "recorded_at": _iso(mark.recorded_at), "recorded_by": mark.recorded_by}
                       for mark, meeting in session.execute(select(Attendance, Meeting).join(
                           Meeting, Meeting.id == Attendance.meeting_id)
                           .where(Attendance.participant_id == pid)
                           .order_by(Meeting.starts_at))],
        "emails": [{"kind": d.kind, "about": d.anchor, "to": d.recipient,
                    "planned_for": _iso(d.send_at), "state": d.state,
                    "sent_at": _iso(d.sent_at), "attempts": d.attempts,
                    "message_id": d.message_id, "last_code": d.last_code,
                    "last_error": d.last_error}
                   for d in session.scalars(select(Delivery).where(
                       Delivery.participant_id == pid).order_by(Delivery.send_at, Delivery.id))],
        "personal_links": [{"created_at": _iso(link.created_at),
                            "revoked_at": _iso(link.revoked_at)}
                           for link in session.scalars(select(ParticipantLink).where(
                               ParticipantLink.participant_id == pid)
                               .order_by(ParticipantLink.id))],
        "calendar_feed": [{"created_at": _iso(feed.created_at),
                           "revoked_at": _iso(feed.revoked_at)}
                          for feed in session.scalars(select(CalendarFeed).where(
                              CalendarFeed.participant_id == pid))],
        "activity_log": [{"at": _iso(entry.created_at), "by": entry.actor,
                          "action": entry.action, "details": entry.details}
                         for entry in _entries_mentioning(session, participant)],
    }


# --- erasure --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Erasure:
    participant_id: int
    emails_cancelled: int
    prompt_answers: int
    log_entries_redacted: int


def erase_participant(session: Session, participant: Participant, actor: User | None,
                      now: datetime, log: bool = True) -> Erasure:
    """Remove a participant's personal data; keep what the cohort's figures are made of.

    Every copy goes: the current name and address, and the earlier ones the activity log
    recorded when they were changed (`_known_as`), wherever they were stored -- the log, the
    email rows, check-in marks, and the rows of Teams reports that named them. The released
    buddy rounds' pairs are frozen before the group memberships go."""
    pid, cohort_id = participant.id, participant.cohort_id
    freeze_released_rounds(session, cohort_id, now)
    known = _known_as(session, participant)
    placeholder = f"erased-{pid}@erased.invalid"
    cancelled = session.execute(update(Delivery).where(
        Delivery.participant_id == pid, Delivery.state == kinds.PENDING,
    ).values(state=kinds.CANCELLED)).rowcount
    session.execute(update(Delivery).where(Delivery.participant_id == pid).values(
        recipient=placeholder, message_id=None, last_error=None, claimed_by=None))
    session.execute(delete(ParticipantLink).where(ParticipantLink.participant_id == pid))
    session.execute(delete(CalendarFeed).where(CalendarFeed.participant_id == pid))
    answers = session.execute(delete(PromptAnswer).where(
        PromptAnswer.participant_id == pid)).rowcount
    session.execute(update(TaskStatus).where(TaskStatus.participant_id == pid).values(note=""))
    session.execute(update(BuddyCheckIn).where(BuddyCheckIn.participant_id == pid).values(
        note="", shared=False))
    session.execute(delete(GroupMember).where(GroupMember.participant_id == pid))
    session.execute(update(Attendance).where(Attendance.participant_id == pid).values(note=""))
    session.execute(update(Attendance).where(
        Attendance.participant_id == pid,
        func.lower(Attendance.recorded_by).in_(known.emails),
    ).values(recorded_by=ERASED_TEXT))
    for report in session.scalars(select(AttendanceImport).where(
            AttendanceImport.cohort_id == cohort_id)):
        rows = [_erased_row(row, pid, known) for row in report.unmatched]
        if rows != report.unmatched:
            report.unmatched = rows
            session.add(report)
    redacted = 0
    for entry in _entries_mentioning(session, participant, known):
        entry.details = _redact(entry.details, known)
        redacted += 1
    participant.name, participant.email = ERASED_NAME, placeholder
    participant.organisation, participant.role = "", ""
    participant.link_opened_at = None  # when they first opened their link (progress grid)
    participant.erased_at = now
    session.add(participant)
    session.flush()
    if log:
        activity.log_activity(session, cohort_id, actor, activity.PARTICIPANT_ERASED,
                              {"participant": pid}, now)
    return Erasure(pid, cancelled, answers, redacted)


@dataclass(frozen=True)
class KnownAs:
    """The addresses (casefolded) and names someone has had in a cohort."""

    emails: frozenset[str]
    names: frozenset[str]

    def names_them(self, value: str) -> bool:
        return value.casefold() in self.emails or value in self.names


def _known_as(session: Session, participant: Participant) -> KnownAs:
    """The participant's address and name now, and every earlier one the log recorded: an
    entry that names one of their addresses (as `email` or `old_email`) names the others and
    the name it records too; followed until nothing new turns up (a chain of changes)."""
    emails, names = {participant.email.casefold()}, {participant.name}
    entries = [e.details for e in _cohort_log(session, participant.cohort_id)
               if isinstance(e.details, dict)]
    grown = True
    while grown:
        grown = False
        for details in entries:
            addresses = {details[k].casefold() for k in ("email", "old_email")
                         if isinstance(details.get(k), str) and details[k]}
            if not addresses & emails:
                continue
            name = details.get("name")
            more_names = {name} - names if isinstance(name, str) and name else set()
            if addresses - emails or more_names:
                emails |= addresses
                names |= more_names
                grown = True
    return KnownAs(frozenset(emails), frozenset(names))


def _erased_row(row, pid: int, known: KnownAs):
    """A Teams report's unmatched row without the person in it, if it was about them: by the
    participant it was proposed for, by their address, or by their name -- any spelling
    whose words (two at least) are all words of a name they had ("Kråkenes, Bjørn" for
    Bjørn Kråkenes Berg). Erasure errs on the side of removing: at worst a row about a
    namesake loses its name in an old report's list of unmatched rows."""
    if not isinstance(row, dict):
        return row
    name, email = str(row.get("name") or ""), str(row.get("email") or "")
    candidates = list(row.get("candidates") or [])
    if not (row.get("proposed") == pid or pid in candidates
            or (email and email.casefold() in known.emails)
            or (name and _names_them(name, known))):
        return row
    return {**row, "name": ERASED_TEXT, "email": "" if not email else ERASED_TEXT,
            "proposed": None if row.get("proposed") == pid else row.get("proposed"),
            "candidates": [c for c in candidates if c != pid]}


def _names_them(name: str, known: KnownAs) -> bool:
    theirs = [set(key.split()) for known_name in known.names for key in name_keys(known_name)]
    return any(len(words) >= 2 and any(words <= their_words for their_words in theirs)
               for words in (set(key.split()) for key in name_keys(name)))


def _cohort_log(session: Session, cohort_id: int) -> list[ActivityEntry]:
    return list(session.scalars(select(ActivityEntry).where(
        ActivityEntry.cohort_id == cohort_id).order_by(ActivityEntry.id)))


def _entries_mentioning(session: Session, participant: Participant,
                        known: KnownAs | None = None) -> list[ActivityEntry]:
    known = known or _known_as(session, participant)
    return [e for e in _cohort_log(session, participant.cohort_id)
            if _mentions(e.details, known)]


def _mentions(value, known: KnownAs) -> bool:
    if isinstance(value, str):
        return known.names_them(value)
    if isinstance(value, dict):
        return any(_mentions(v, known) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, known) for v in value)
    return False


def _redact(value, known: KnownAs):
    if isinstance(value, str):
        return ERASED_TEXT if known.names_them(value) else value
    if isinstance(value, dict):
        return {k: _redact(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, known) for v in value]
    return value


# --- retention ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Purge:
    cohort_id: int
    title: str
    ended_at: datetime
    participants: int


def cohorts_to_purge(session: Session, older_than: timedelta, now: datetime) -> list[Purge]:
    """Cohorts that ended (last meeting, deadline or survey) more than `older_than` ago and
    still hold personal data."""
    found = []
    for cohort in session.scalars(select(Cohort).where(
            Cohort.personal_data_purged_at.is_(None)).order_by(Cohort.id)):
        ended = cohort_ends_at(session, cohort)
        if ended + older_than < now:
            people = session.scalars(select(Participant.id).where(
                Participant.cohort_id == cohort.id, Participant.erased_at.is_(None))).all()
            found.append(Purge(cohort.id, cohort.title, ended, len(people)))
    return found


def purge_ended_cohorts(session: Session, older_than: timedelta, now: datetime,
                        actor: User | None = None,
                        materials: MaterialStore | None = None) -> list[Purge]:
    """Erase every participant of the cohorts `cohorts_to_purge` finds, delete their uploaded
    materials (from `materials`, the materials folder); mark them purged."""
    purged = cohorts_to_purge(session, older_than, now)
    for purge in purged:
        for participant in session.scalars(select(Participant).where(
                Participant.cohort_id == purge.cohort_id,
                Participant.erased_at.is_(None))).all():
            erase_participant(session, participant, actor, now, log=False)
        delete_cohort_files(session, materials, purge.cohort_id)
        cohort = get_cohort(session, purge.cohort_id)
        cohort.personal_data_purged_at = now
        session.add(cohort)
        activity.log_activity(session, cohort.id, actor, activity.PERSONAL_DATA_PURGED,
                              {"participants": purge.participants,
                               "older_than_days": older_than.days}, now)
    return purged


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
