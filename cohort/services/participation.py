"""What a participant sees and does on their page, and the facilitator digest built from it.

Every function takes the participant (from their personal link) and looks ids up only inside
that participant's own cohort: an id from elsewhere is NotFound, never someone else's data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..core.digest import Contribution, Digest, DigestMeeting, compose_digest
from ..core.surveys import SurveySpec
from ..models import (
    BuddyCheckIn,
    Cohort,
    Group,
    GroupMember,
    Invitation,
    Meeting,
    Participant,
    Prompt,
    PromptAnswer,
    Survey,
    Task,
    TaskStatus,
)
from ..models.attendance import Attendance, CheckInCode
from ._lookup import (
    SNAPSHOT_DIGEST,
    NotFound,
    cohort_programme,
    get_cohort,
    programme_of_digest,
    survey_spec_of_digest,
)
from .attendance import OwnMeetingRow, own_meeting_rows
from .buddy_check_ins import BUDDY_TASK, BuddyRound, CheckInItem, check_in_items
from .frozen_rounds import frozen_partners
from .surveys import AnswerTarget, survey_state

MAX_TEXT = 5000


@dataclass(frozen=True)
class TaskItem:
    id: int
    title: str
    description: str
    kind: str
    release_at: datetime
    due_at: datetime | None
    done: bool
    note: str


@dataclass(frozen=True)
class PromptItem:
    id: int
    question: str
    meeting_title: str
    send_at: datetime
    answer: str


@dataclass(frozen=True)
class GroupItem:
    grouping_key: str
    title: str
    rotation: int
    number: int
    members: list[Participant]
    kind: str = "buddy"  # buddy | team (the grouping's kind in the programme)


@dataclass(frozen=True)
class SurveyItem:
    id: int
    title: str
    mode: str  # anonymous | identified
    opens_at: datetime
    closes_at: datetime
    status: str  # done | open | closed | upcoming
    meeting_title: str | None = None  # for a survey repeated per meeting (see _about)


@dataclass(frozen=True)
class SurveyToAnswer:
    """A survey as the participant meets it on its page, and whether they can answer now."""

    survey: Survey
    invitation_id: int
    spec: SurveySpec
    state: str  # answered | open | not_open | closed
    meeting_title: str | None = None
    min_group_size: int = 0  # the programme's k: results only for groups of at least this
    digest: str = ""  # the cohort's programme (_lookup.SNAPSHOT_DIGEST)

    @property
    def target(self) -> AnswerTarget:
        """What `surveys.submit_response` checks an answer against (as read by the page)."""
        return AnswerTarget(self.invitation_id, self.survey.template_key, self.digest,
                            self.spec, self.min_group_size)


@dataclass(frozen=True)
class ParticipantPage:
    participant: Participant
    cohort_title: str
    timezone: str
    meetings: list[Meeting]
    tasks: list[TaskItem]
    prompts: list[PromptItem]
    groups: list[GroupItem]
    surveys: list[SurveyItem] = field(default_factory=list)
    # Every meeting of the cohort (cancelled and past ones too), by start: read once here,
    # the page's attendance and materials take them instead of reading them again.
    all_meetings: list[Meeting] = field(default_factory=list)
    # The participant's record meeting by meeting, and whether check-in is open now.
    attendance: list[OwnMeetingRow] = field(default_factory=list)
    # The released buddy exchanges they can answer for (they have a buddy), latest first.
    buddy_check_ins: list[CheckInItem] = field(default_factory=list)


def participant_page(session: Session, participant: Participant, now: datetime,
                     facts: CohortFacts | None = None) -> ParticipantPage:
    """Everything the participant's page shows, in a fixed number of statements however much
    they have done: each kind of the cohort's rows is read with the participant's own rows
    about it (tasks with their states, prompts with their answers, meetings with the room codes
    and their attendance, their groups with the members), and the buddy check-ins come from
    those groups and tasks (the tasks are read with the participant's check-ins too).
    `facts`: the cohort's, if the caller has them (`cohort_facts`)."""
    title, timezone, digest = facts or cohort_facts(session, participant.cohort_id)
    everything, codes, own = _meetings(session, participant, now)
    titles = {m.key: m.title for m in everything}
    tasks, buddy_rounds = _tasks(session, participant, now)
    groups, buddies = _groups(session, participant, digest)
    return ParticipantPage(
        participant=participant, cohort_title=title, timezone=timezone,
        meetings=[m for m in everything if m.status == "scheduled" and m.ends_at > now],
        tasks=tasks,
        prompts=_prompts(session, participant, now, titles),
        groups=groups,
        surveys=_surveys(session, participant, now, titles),
        all_meetings=everything,
        attendance=own_meeting_rows(participant.cohort_id, everything, codes, own, now),
        buddy_check_ins=check_in_items(buddy_rounds, buddies, frozen_partners(
            session, participant.id, [r.task_id for r in buddy_rounds])),
    )


# Built once, with bound parameters (building a statement cost about as much as running it).
_COHORT_FACTS = select(Cohort.title, Cohort.timezone, SNAPSHOT_DIGEST).where(
    Cohort.id == bindparam("cohort_id"))


class CohortFacts(NamedTuple):
    """What the participant's page needs of the cohort itself."""

    title: str
    timezone: str
    digest: str  # the programme snapshot's (_lookup.SNAPSHOT_DIGEST)


def cohort_facts(session: Session, cohort_id: int) -> CohortFacts:
    """The cohort's title, time zone and programme snapshot's digest: not its row, whose
    snapshot (tens of kilobytes of JSON) would be unpacked on every view. They change only
    with the cohort's revision: the page keeps them per revision (web/page_cache.py)."""
    row = session.execute(_COHORT_FACTS, {"cohort_id": cohort_id}).one_or_none()
    if row is None:
        raise NotFound(f"no cohort {cohort_id}")
    return CohortFacts(row[0], row[1], row[2])


_MEETINGS = (
    select(Meeting, CheckInCode.code, Attendance)
    .outerjoin(CheckInCode, CheckInCode.meeting_id == Meeting.id)
    .outerjoin(Attendance, (Attendance.meeting_id == Meeting.id)
               & (Attendance.participant_id == bindparam("participant_id")))
    .where(Meeting.cohort_id == bindparam("cohort_id"))
    .order_by(Meeting.starts_at, Meeting.position))


def _meetings(session: Session, participant: Participant, now: datetime
              ) -> tuple[list[Meeting], dict[int, str], dict[int, Attendance]]:
    """Every meeting of the cohort by start, with its room code (one per meeting at most) and
    the participant's attendance at it (one per meeting and person at most)."""
    meetings, codes, own = [], {}, {}
    for meeting, code, attendance in session.execute(_MEETINGS, {
            "participant_id": participant.id, "cohort_id": participant.cohort_id}):
        meetings.append(meeting)
        if code is not None:
            codes[meeting.id] = code
        if attendance is not None:
            own[meeting.id] = attendance
    return meetings, codes, own


_TASKS = (
    select(Task.id, Task.title, Task.description, Task.kind, Task.release_at, Task.due_at,
           TaskStatus.done_at, TaskStatus.note,
           BuddyCheckIn.answer, BuddyCheckIn.note, BuddyCheckIn.shared)
    .outerjoin(TaskStatus, (TaskStatus.task_id == Task.id)
               & (TaskStatus.participant_id == bindparam("participant_id")))
    .outerjoin(BuddyCheckIn, (BuddyCheckIn.task_id == Task.id)
               & (BuddyCheckIn.participant_id == bindparam("participant_id")))
    .where(Task.cohort_id == bindparam("cohort_id"), Task.release_at <= bindparam("now"))
    .order_by(Task.due_at, Task.release_at, Task.id))


def _tasks(session: Session, participant: Participant, now: datetime
           ) -> tuple[list[TaskItem], list[BuddyRound]]:
    """The released tasks with the participant's state of each and their buddy check-in (one
    of each per task and person at most), open ones first; and the buddy exchanges among
    them with those check-ins, in release order."""
    items, rounds = [], []
    for (task_id, title, description, kind, release_at, due_at, done_at, note, answer,
         line, shared) in session.execute(_TASKS, {"participant_id": participant.id,
                                                   "cohort_id": participant.cohort_id,
                                                   "now": now}):
        items.append(TaskItem(task_id, title, description, kind, release_at, due_at,
                              bool(done_at), note or ""))
        if kind == BUDDY_TASK:
            rounds.append(BuddyRound(task_id, title, release_at, due_at, answer, line or "",
                                     bool(shared)))
    rounds.sort(key=lambda r: (r.release_at, r.task_id))
    # Open tasks first (soonest due first), then the ones already done.
    return sorted(items, key=lambda t: t.done), rounds


_PROMPTS = (
    select(Prompt.id, Prompt.question, Prompt.meeting_key, Prompt.send_at, PromptAnswer.answer)
    .outerjoin(PromptAnswer, (PromptAnswer.prompt_id == Prompt.id)
               & (PromptAnswer.participant_id == bindparam("participant_id")))
    .where(Prompt.cohort_id == bindparam("cohort_id"), Prompt.send_at <= bindparam("now"))
    .order_by(Prompt.send_at.desc(), Prompt.id))


def _prompts(session: Session, participant: Participant, now: datetime,
             titles: dict[str, str]) -> list[PromptItem]:
    """The prompts sent, newest first, with the participant's answer (one per prompt and
    person at most)."""
    return [PromptItem(prompt_id, question, titles.get(meeting_key, meeting_key), send_at,
                       answer or "")
            for prompt_id, question, meeting_key, send_at, answer in session.execute(
                _PROMPTS, {"participant_id": participant.id,
                           "cohort_id": participant.cohort_id, "now": now})]


_LATEST = aliased(Group)
_MY_GROUPS = (
    select(Group.id, Group.grouping_key, Group.rotation, Group.number,
           # The grouping's latest rotation in the cohort: the buddy check-ins pair people
           # by it (an older group of the participant's is shown, but pairs no one).
           select(func.max(_LATEST.rotation))
           .where(_LATEST.cohort_id == Group.cohort_id,
                  _LATEST.grouping_key == Group.grouping_key).scalar_subquery(),
           Participant)
    .join(GroupMember, GroupMember.group_id == Group.id)
    .join(Participant, Participant.id == GroupMember.participant_id)
    .where(Group.cohort_id == bindparam("cohort_id"),
           Group.id.in_(select(GroupMember.group_id)
                        .where(GroupMember.participant_id == bindparam("participant_id"))))
    .order_by(Group.grouping_key, Group.rotation.desc(), Participant.name, Participant.id))


def _groups(session: Session, participant: Participant, digest: str
            ) -> tuple[list[GroupItem], dict[int, str]]:
    """The participant's group in the latest rotation of each grouping they are in, with the
    others (every member of all their groups in one statement, not a query per group); and
    the names of the others in each of their buddy pairs (groups of a buddy grouping's latest
    rotation with someone else in them): their ids and names."""
    rows = session.execute(_MY_GROUPS, {"cohort_id": participant.cohort_id,
                                        "participant_id": participant.id}).all()
    if not rows:
        return [], {}
    groupings = {g.key: (g.title or g.key, g.kind) for g in programme_of_digest(
        session, participant.cohort_id, digest).groupings}
    latest: dict[str, tuple] = {}
    members: dict[int, list[Participant]] = defaultdict(list)
    for group_id, key, rotation, number, newest, member in rows:
        chosen = latest.setdefault(key, (group_id, rotation, number, newest))
        if chosen[0] == group_id and member.id != participant.id:
            members[group_id].append(member)
    items, buddies = [], {}
    for key, (group_id, rotation, number, newest) in latest.items():
        title, kind = groupings.get(key, (key, "buddy"))
        items.append(GroupItem(key, title, rotation, number, members[group_id], kind))
        if key in groupings and kind == "buddy" and rotation == newest and members[group_id]:
            buddies.update((m.id, m.name) for m in members[group_id])
    return items, buddies


_SURVEYS = (
    select(Survey.id, Survey.key, Survey.template_key, Survey.meeting_key, Survey.title,
           Survey.mode, Survey.opens_at, Survey.closes_at, Invitation.completed)
    .join(Invitation, Invitation.survey_id == Survey.id)
    .where(Invitation.participant_id == bindparam("participant_id"),
           # Redundant for the answer, but keeps PostgreSQL on the cohort's index instead of
           # hashing every survey of the installation.
           Survey.cohort_id == bindparam("cohort_id"))
    .order_by(Survey.opens_at))


def _surveys(session: Session, participant: Participant, now: datetime,
             titles: dict[str, str]) -> list[SurveyItem]:
    items = []
    for (survey_id, key, template_key, meeting_key, title, mode, opens_at, closes_at,
         completed) in session.execute(_SURVEYS, {"participant_id": participant.id,
                                                  "cohort_id": participant.cohort_id}):
        if now < opens_at:  # never "answered" before it opens, whatever the data says
            status = "upcoming"
        elif completed:
            status = "done"
        elif now >= closes_at:
            status = "closed"
        else:
            status = "open"
        items.append(SurveyItem(survey_id, title, mode, opens_at, closes_at, status,
                                _about(key, template_key, meeting_key, titles)))
    return items


def _about(key: str, template_key: str, meeting_key: str,
           meeting_titles: dict[str, str]) -> str | None:
    """The meeting a survey repeated for each meeting is about ("Evaluering af mødet" after
    Webinar 1 and after Webinar 2 share a title; their keys are `template@meeting`)."""
    if key == template_key:
        return None
    return meeting_titles.get(meeting_key)


def survey_for_participant(session: Session, participant: Participant, survey_id: int,
                           now: datetime) -> SurveyToAnswer:
    """A survey the participant is invited to, with its questions and whether it can be
    answered now; NotFound for any other id (another cohort's, or one they are not invited to).
    Answering itself is surveys.submit_response with the invitation id. One statement: the
    survey, the invitation, the title of the meeting it is about and the digest of the
    cohort's programme (its questions and minimum group size come from the programme cache,
    `_lookup.survey_spec_of_digest`: the cohort's row and its snapshot are not read)."""
    row = session.execute(_SURVEY_FOR_PARTICIPANT, {
        "survey_id": survey_id, "cohort_id": participant.cohort_id,
        "participant_id": participant.id}).one_or_none()
    if row is None:
        raise NotFound(f"no survey {survey_id} for this participant")
    survey, invitation_id, completed, meeting_title, digest = row
    state = "answered" if completed else survey_state(survey, now)
    titles = {survey.meeting_key: meeting_title} if meeting_title is not None else {}
    spec, min_group_size = survey_spec_of_digest(session, survey.cohort_id, digest,
                                                 survey.template_key)
    about = _about(survey.key, survey.template_key, survey.meeting_key, titles)
    return SurveyToAnswer(survey, invitation_id, spec, state, about, min_group_size, digest)


# Built once (the survey page and every answer run it): the ids are bound parameters.
_SURVEY_FOR_PARTICIPANT = (
    select(Survey, Invitation.id, Invitation.completed, Meeting.title, SNAPSHOT_DIGEST)
    .join(Invitation, Invitation.survey_id == Survey.id)
    .join(Cohort, Cohort.id == Survey.cohort_id)
    .outerjoin(Meeting, (Meeting.cohort_id == Survey.cohort_id)
               & (Meeting.key == Survey.meeting_key))
    .where(Survey.id == bindparam("survey_id"), Survey.cohort_id == bindparam("cohort_id"),
           Invitation.participant_id == bindparam("participant_id")))


def set_task_status(session: Session, participant: Participant, task_id: int, *,
                    done: bool | None, note: str | None, now: datetime) -> TaskStatus:
    """Mark a released task of the participant's own cohort done or not, with a note.

    None leaves that part as it is: the page's "done" button and its note form are sent apart.
    """
    task = session.get(Task, task_id)
    if task is None or task.cohort_id != participant.cohort_id or task.release_at > now:
        raise NotFound(f"no task {task_id} for this participant")
    status = session.scalars(select(TaskStatus).where(
        TaskStatus.participant_id == participant.id, TaskStatus.task_id == task_id,
    )).one_or_none() or TaskStatus(participant_id=participant.id, task_id=task_id)
    if done is not None:
        status.done_at = (status.done_at or now) if done else None
    if note is not None:
        status.note = note.strip()[:MAX_TEXT]
    status.updated_at = now
    session.add(status)
    session.flush()
    return status


def answer_prompt(session: Session, participant: Participant, prompt_id: int, answer: str,
                  now: datetime) -> PromptAnswer:
    """Save (or replace) the participant's answer to a prompt that has been sent to them."""
    prompt = session.get(Prompt, prompt_id)
    if prompt is None or prompt.cohort_id != participant.cohort_id or prompt.send_at > now:
        raise NotFound(f"no prompt {prompt_id} for this participant")
    row = session.scalars(select(PromptAnswer).where(
        PromptAnswer.participant_id == participant.id, PromptAnswer.prompt_id == prompt_id,
    )).one_or_none() or PromptAnswer(participant_id=participant.id, prompt_id=prompt_id,
                                     answer="")
    row.answer = answer.strip()[:MAX_TEXT]
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


def facilitator_digest(session: Session, cohort_id: int, meeting_key: str,
                       now: datetime) -> Digest:
    """The next meeting's agenda from what participants sent in since the previous meeting
    (the dashboard calls this live; the facilitator_digest email sends the same)."""
    cohort = get_cohort(session, cohort_id)
    meetings = session.scalars(select(Meeting).where(
        Meeting.cohort_id == cohort_id, Meeting.status == "scheduled",
    ).order_by(Meeting.starts_at)).all()
    index = next((i for i, m in enumerate(meetings) if m.key == meeting_key), None)
    if index is None:
        raise NotFound(f"cohort {cohort_id} has no scheduled meeting '{meeting_key}'")
    meeting = meetings[index]
    previous_end = meetings[index - 1].ends_at if index else None
    template = next((m for m in cohort_programme(cohort).meetings if m.key == meeting_key), None)
    digest_meeting = DigestMeeting(
        meeting.key, meeting.title, meeting.starts_at,
        tuple(template.themes) if template else (), tuple(template.content) if template else ())
    return compose_digest(digest_meeting, previous_end,
                          _contributions(session, cohort_id), now)


def next_meeting_key(session: Session, cohort_id: int, now: datetime) -> str | None:
    """The meeting a digest is about right now: the next one that has not started."""
    return session.scalar(select(Meeting.key).where(
        Meeting.cohort_id == cohort_id, Meeting.status == "scheduled", Meeting.starts_at > now,
    ).order_by(Meeting.starts_at).limit(1))


def _contributions(session: Session, cohort_id: int) -> list[Contribution]:
    answers = session.execute(
        select(PromptAnswer, Prompt.question, Participant.name, Participant.organisation)
        .join(Prompt, Prompt.id == PromptAnswer.prompt_id)
        .join(Participant, Participant.id == PromptAnswer.participant_id)
        .where(Prompt.cohort_id == cohort_id)).all()
    notes = session.execute(
        select(TaskStatus, Task.title, Participant.name, Participant.organisation)
        .join(Task, Task.id == TaskStatus.task_id)
        .join(Participant, Participant.id == TaskStatus.participant_id)
        .where(Task.cohort_id == cohort_id, TaskStatus.note != "")).all()
    return (
        [Contribution("prompt", question, a.answer, a.updated_at, name, org)
         for a, question, name, org in answers]
        + [Contribution("task", title, s.note, s.updated_at, name, org)
           for s, title, name, org in notes])
