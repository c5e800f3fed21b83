"""What a participant sees and does on their page, and the facilitator digest built from it.

Every function takes the participant (from their personal link) and looks ids up only inside
that participant's own cohort: an id from elsewhere is NotFound, never someone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlmodel import Session

from ..core.digest import Contribution, Digest, DigestMeeting, compose_digest
from ..core.surveys import SurveySpec
from ..models import (
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
from ._lookup import (
    SNAPSHOT_DIGEST,
    NotFound,
    cohort_programme,
    get_cohort,
    survey_spec_of_digest,
)
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


def participant_page(session: Session, participant: Participant, now: datetime
                     ) -> ParticipantPage:
    cohort = get_cohort(session, participant.cohort_id)
    everything = list(session.scalars(select(Meeting).where(Meeting.cohort_id == cohort.id)
                                      .order_by(Meeting.starts_at, Meeting.position)))
    titles = {m.key: m.title for m in everything}
    return ParticipantPage(
        participant=participant, cohort_title=cohort.title, timezone=cohort.timezone,
        meetings=[m for m in everything if m.status == "scheduled" and m.ends_at > now],
        tasks=_tasks(session, participant, now),
        prompts=_prompts(session, participant, now, titles),
        groups=_groups(session, participant),
        surveys=_surveys(session, participant, now, titles),
        all_meetings=everything,
    )


def _tasks(session: Session, participant: Participant, now: datetime) -> list[TaskItem]:
    statuses = {s.task_id: s for s in session.scalars(
        select(TaskStatus).where(TaskStatus.participant_id == participant.id))}
    tasks = session.scalars(select(Task).where(
        Task.cohort_id == participant.cohort_id, Task.release_at <= now,
    ).order_by(Task.due_at, Task.release_at, Task.id)).all()
    items = []
    for task in tasks:
        status = statuses.get(task.id)
        items.append(TaskItem(task.id, task.title, task.description, task.kind,
                              task.release_at, task.due_at,
                              bool(status and status.done_at), status.note if status else ""))
    # Open tasks first (soonest due first), then the ones already done.
    return sorted(items, key=lambda t: t.done)


def _prompts(session: Session, participant: Participant, now: datetime,
             titles: dict[str, str]) -> list[PromptItem]:
    answers = {a.prompt_id: a.answer for a in session.scalars(
        select(PromptAnswer).where(PromptAnswer.participant_id == participant.id))}
    prompts = session.scalars(select(Prompt).where(
        Prompt.cohort_id == participant.cohort_id, Prompt.send_at <= now,
    ).order_by(Prompt.send_at.desc(), Prompt.id)).all()
    return [PromptItem(p.id, p.question, titles.get(p.meeting_key, p.meeting_key), p.send_at,
                       answers.get(p.id, "")) for p in prompts]


def _groups(session: Session, participant: Participant) -> list[GroupItem]:
    """The participant's group in the latest rotation of each grouping, with the others."""
    mine = session.scalars(select(Group).join(GroupMember, GroupMember.group_id == Group.id)
                           .where(GroupMember.participant_id == participant.id,
                                  Group.cohort_id == participant.cohort_id)
                           .order_by(Group.grouping_key, Group.rotation.desc())).all()
    groupings = _groupings(session, participant.cohort_id) if mine else {}
    latest: dict[str, Group] = {}
    for group in mine:
        latest.setdefault(group.grouping_key, group)
    members: dict[int, list[Participant]] = {group.id: [] for group in latest.values()}
    if members:  # the others in all of these groups at once, not a query per group
        for group_id, other in session.execute(select(GroupMember.group_id, Participant).join(
                GroupMember, GroupMember.participant_id == Participant.id,
        ).where(GroupMember.group_id.in_(list(members)), Participant.id != participant.id)
                .order_by(Participant.name, Participant.id)):
            members[group_id].append(other)
    items = []
    for key, group in latest.items():
        title, kind = groupings.get(key, (key, "buddy"))
        items.append(GroupItem(key, title, group.rotation, group.number, members[group.id],
                               kind))
    return items


def _groupings(session: Session, cohort_id: int) -> dict[str, tuple[str, str]]:
    """Title and kind (buddy or team) of each grouping in the cohort's programme."""
    programme = cohort_programme(get_cohort(session, cohort_id))
    return {g.key: (g.title or g.key, g.kind) for g in programme.groupings}


def _surveys(session: Session, participant: Participant, now: datetime,
             titles: dict[str, str]) -> list[SurveyItem]:
    rows = session.execute(select(Survey, Invitation.completed).join(
        Invitation, Invitation.survey_id == Survey.id,
    ).where(Invitation.participant_id == participant.id,
            # Redundant for the answer, but keeps PostgreSQL on the cohort's index instead of
            # hashing every survey of the installation.
            Survey.cohort_id == participant.cohort_id).order_by(Survey.opens_at)).all()
    items = []
    for survey, completed in rows:
        if now < survey.opens_at:  # never "answered" before it opens, whatever the data says
            status = "upcoming"
        elif completed:
            status = "done"
        elif now >= survey.closes_at:
            status = "closed"
        else:
            status = "open"
        items.append(SurveyItem(survey.id, survey.title, survey.mode, survey.opens_at,
                                survey.closes_at, status, _about(survey, titles)))
    return items


def _about(survey: Survey, meeting_titles: dict[str, str]) -> str | None:
    """The meeting a survey repeated for each meeting is about ("Evaluering af mødet" after
    Webinar 1 and after Webinar 2 share a title; their keys are `template@meeting`)."""
    if survey.key == survey.template_key:
        return None
    return meeting_titles.get(survey.meeting_key)


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
    return SurveyToAnswer(survey, invitation_id, spec, state, _about(survey, titles),
                          min_group_size, digest)


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
