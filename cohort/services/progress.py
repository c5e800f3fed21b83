"""The progress grid: who is falling behind, counted in the database; and "remind these".

`progress_grid` reads each participant's figures (meetings missed, tasks done, answers, link
opened) with one aggregate query for the whole cohort, lets the core filter, sort and page
them (`core.progress`), and then reads the cells of the page's rows only (four queries with
the page's ids). The number of queries does not grow with the cohort: 5,000 participants cost
what 30 do, plus the time to move 5,000 small rows (benchmarks/progress_grid.py).

Anonymous surveys get no per-person column: only a header with how many have answered of how
many were invited (the count the evaluation pages show while a survey is open; publication
rule 5, docs/anonymity.md). Their invitations' `completed` marks are never read here.

`remind` queues one `progress_reminder` per chosen participant through the outbox: it travels
in the participant's next bundled email under the cohort's mail policy (`core.progress.
message_send_at`), and someone who already has one waiting gets no second one. Reminding
everyone the filters show is asked first (`plan_filtered_reminders`): the filters may cover more
people than one page shows, so the facilitator sees how many and the first names, and
`remind_filtered` queues only with that plan's fingerprint (like an announcement's preview).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core import progress as core
from ..core.attendance import MISSED_STATES
from ..core.spreadsheets import Table
from ..core.text import whole_number
from ..models import (
    AnonymousAnswerPool,
    AnonymousResponse,
    Attendance,
    Cohort,
    Delivery,
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
    User,
)
from ._lookup import NotFound, _aware, cohort_programme, get_cohort
from .activity import PROGRESS_REMINDERS_QUEUED, log_activity
from .plans import bulk_insert, mail_policy

MEETING, TASK, PROMPT, SURVEY = "meeting", "task", "prompt", "survey"


@dataclass(frozen=True)
class Column:
    kind: str  # meeting | task | prompt | survey (identified only)
    id: int
    key: str
    title: str
    at: datetime  # the meeting's start, the task's release, the question's or survey's opening


@dataclass(frozen=True)
class AnonymousRate:
    """An anonymous survey: a count in a header, never a cell."""

    key: str
    title: str
    opened: bool
    invited: int
    answered: int


@dataclass(frozen=True)
class Row:
    summary: core.RowSummary
    cells: tuple[str, ...]  # a state per column (core.progress), aligned with Grid.columns


@dataclass(frozen=True)
class GroupOption:
    id: int
    title: str


@dataclass(frozen=True)
class Grid:
    cohort: Cohort
    columns: tuple[Column, ...]
    anonymous: tuple[AnonymousRate, ...]
    filters: core.GridFilters
    page: core.Page
    rows: tuple[Row, ...]
    participants: int  # everyone in the grid before filtering
    tasks: tuple[tuple[str, str], ...]  # (key, title) for the "task not done" filter
    groups: tuple[GroupOption, ...]


def grid_columns(session: Session, cohort_id: int) -> tuple[Column, ...]:
    """Meetings, then tasks, reflection questions and identified surveys, each in time order."""
    meetings = session.execute(select(Meeting.id, Meeting.key, Meeting.title, Meeting.starts_at)
                               .where(Meeting.cohort_id == cohort_id)
                               .order_by(Meeting.starts_at, Meeting.position)).all()
    tasks = session.execute(select(Task.id, Task.key, Task.title, Task.release_at)
                            .where(Task.cohort_id == cohort_id)
                            .order_by(Task.release_at, Task.key)).all()
    prompts = session.execute(select(Prompt.id, Prompt.key, Prompt.question, Prompt.send_at)
                              .where(Prompt.cohort_id == cohort_id)
                              .order_by(Prompt.send_at, Prompt.key)).all()
    surveys = session.execute(select(Survey.id, Survey.key, Survey.title, Survey.opens_at)
                              .where(Survey.cohort_id == cohort_id,
                                     Survey.mode == "identified")
                              .order_by(Survey.opens_at, Survey.key)).all()
    return tuple(Column(kind, *row) for kind, rows in (
        (MEETING, meetings), (TASK, tasks), (PROMPT, prompts), (SURVEY, surveys))
        for row in rows)


def summaries(session: Session, cohort_id: int) -> list[core.RowSummary]:
    """Every (not erased) participant's figures, in one query of grouped subqueries."""
    missed = (select(Attendance.participant_id, func.count().label("n"))
              .join(Meeting, Meeting.id == Attendance.meeting_id)
              .where(Attendance.cohort_id == cohort_id, Attendance.state.in_(MISSED_STATES),
                     Meeting.status != "cancelled")
              .group_by(Attendance.participant_id).subquery())
    tasks = (select(TaskStatus.participant_id, func.count().label("n"))
             .join(Task, Task.id == TaskStatus.task_id)
             .where(Task.cohort_id == cohort_id, TaskStatus.done_at.is_not(None))
             .group_by(TaskStatus.participant_id).subquery())
    prompts = (select(PromptAnswer.participant_id, func.count().label("n"))
               .join(Prompt, Prompt.id == PromptAnswer.prompt_id)
               .where(Prompt.cohort_id == cohort_id)
               .group_by(PromptAnswer.participant_id).subquery())
    surveys = (select(Invitation.participant_id, func.count().label("n"))
               .join(Survey, Survey.id == Invitation.survey_id)
               .where(Survey.cohort_id == cohort_id, Survey.mode == "identified",
                      Invitation.completed.is_(True))
               .group_by(Invitation.participant_id).subquery())
    query = (select(Participant.id, Participant.name, Participant.email,
                    Participant.organisation, func.coalesce(missed.c.n, 0),
                    func.coalesce(tasks.c.n, 0),
                    func.coalesce(prompts.c.n, 0) + func.coalesce(surveys.c.n, 0),
                    Participant.link_opened_at.is_not(None))
             .outerjoin(missed, missed.c.participant_id == Participant.id)
             .outerjoin(tasks, tasks.c.participant_id == Participant.id)
             .outerjoin(prompts, prompts.c.participant_id == Participant.id)
             .outerjoin(surveys, surveys.c.participant_id == Participant.id)
             .where(Participant.cohort_id == cohort_id, Participant.erased_at.is_(None)))
    # Core, not the ORM: 5,000 plain rows need none of the ORM's per-row work.
    return [core.RowSummary(pid, name, email, organisation or "", int(m), int(t), int(a),
                            bool(opened))
            for pid, name, email, organisation, m, t, a, opened
            in session.connection().execute(query).all()]


def _task_done_by(session: Session, cohort_id: int, task_key: str) -> set[int]:
    return set(session.scalars(
        select(TaskStatus.participant_id).join(Task, Task.id == TaskStatus.task_id)
        .where(Task.cohort_id == cohort_id, Task.key == task_key,
               TaskStatus.done_at.is_not(None))))


def group_members(session: Session, cohort_id: int, group_id: int) -> set[int]:
    return set(session.scalars(
        select(GroupMember.participant_id).join(Group, Group.id == GroupMember.group_id)
        .where(Group.cohort_id == cohort_id, Group.id == group_id)))


def group_options(session: Session, cohort: Cohort) -> tuple[GroupOption, ...]:
    """The cohort's teams (groupings of kind team), for the grid's filter and announcements.
    Buddy pairs are left out: a cohort of 5,000 has thousands, and a message to two people
    is an ordinary email."""
    teams = {t.key: t.title or t.key for t in cohort_programme(cohort).groupings
             if t.kind == "team"}
    if not teams:
        return ()
    groups = session.execute(select(Group.id, Group.grouping_key, Group.rotation, Group.number)
                             .where(Group.cohort_id == cohort.id,
                                    Group.grouping_key.in_(sorted(teams)))
                             .order_by(Group.grouping_key, Group.rotation, Group.number)).all()
    titles = teams
    return tuple(GroupOption(gid, f"{titles.get(key, key)} {rotation}.{number}")
                 for gid, key, rotation, number in groups)


def filtered_summaries(session: Session, cohort: Cohort, filters: core.GridFilters
                       ) -> tuple[list[core.RowSummary], int]:
    """The rows passing `filters`, sorted, and how many participants there are in all."""
    rows = summaries(session, cohort.id)
    done = (_task_done_by(session, cohort.id, filters.task_not_done)
            if filters.task_not_done else ())
    members = (group_members(session, cohort.id, filters.group_id)
               if filters.group_id else None)
    return core.select_rows(rows, filters, done, members), len(rows)


def parse_grid_filters(session: Session, cohort_id: int, args) -> core.GridFilters:
    """`core.progress.parse_filters` with the cohort's own tasks and groups as the only
    accepted values."""
    task_keys = session.scalars(select(Task.key).where(Task.cohort_id == cohort_id)).all()
    raw = (args.get("group") or "").strip()
    group_id = whole_number(raw)
    group_ids = set(session.scalars(select(Group.id).where(
        Group.cohort_id == cohort_id, Group.id == group_id))) if group_id is not None else set()
    return core.parse_filters(args, task_keys, group_ids)


def progress_grid(session: Session, cohort_id: int, filters: core.GridFilters,
                  page: int, now: datetime, size: int = core.PAGE_SIZE) -> Grid:
    cohort = get_cohort(session, cohort_id)
    columns = grid_columns(session, cohort_id)
    kept, total = filtered_summaries(session, cohort, filters)
    shown = core.page_of(kept, page, size)
    rows = _rows(session, cohort_id, columns, shown.rows, now)
    tasks = tuple((c.key, c.title) for c in columns if c.kind == TASK)
    return Grid(cohort, columns, anonymous_rates(session, cohort_id, now), filters, shown,
                tuple(rows), total, tasks, group_options(session, cohort))


def _rows(session: Session, cohort_id: int, columns: tuple[Column, ...],
          summaries_: Iterable[core.RowSummary], now: datetime) -> list[Row]:
    """The cells of the given rows: one query per kind of cell, for all their ids at once."""
    summaries_ = list(summaries_)
    ids = [s.participant_id for s in summaries_]
    marks: dict[tuple[int, int], str] = {}
    done: set[tuple[int, int]] = set()
    answered: set[tuple[int, int]] = set()
    completed: set[tuple[int, int]] = set()
    meetings = {m.id: m for m in session.scalars(
        select(Meeting).where(Meeting.cohort_id == cohort_id))}
    tasks = {t.id: t for t in session.scalars(select(Task).where(Task.cohort_id == cohort_id))}
    prompts = {p.id: p for p in session.scalars(
        select(Prompt).where(Prompt.cohort_id == cohort_id))}
    surveys = {s.id: s for s in session.scalars(
        select(Survey).where(Survey.cohort_id == cohort_id, Survey.mode == "identified"))}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for pid, mid, state in session.execute(
                select(Attendance.participant_id, Attendance.meeting_id, Attendance.state)
                .where(Attendance.participant_id.in_(chunk))):
            marks[pid, mid] = state
        done.update(tuple(r) for r in session.execute(
            select(TaskStatus.participant_id, TaskStatus.task_id)
            .where(TaskStatus.participant_id.in_(chunk), TaskStatus.done_at.is_not(None))
        ).all())
        answered.update(tuple(r) for r in session.execute(
            select(PromptAnswer.participant_id, PromptAnswer.prompt_id)
            .where(PromptAnswer.participant_id.in_(chunk))).all())
        if surveys:  # identified surveys only: anonymous completions are never read here
            completed.update(tuple(r) for r in session.execute(
                select(Invitation.participant_id, Invitation.survey_id)
                .where(Invitation.participant_id.in_(chunk),
                       Invitation.survey_id.in_(list(surveys)),
                       Invitation.completed.is_(True))).all())
    # Each column's state depends only on one fact per person (a mark, done or not): the
    # core's rule is asked once per column and possible fact, not once per cell.
    plan = []
    for column in columns:
        if column.kind == MEETING:
            meeting = meetings[column.id]
            plan.append((marks, column.id, {mark: core.meeting_cell(
                mark, meeting.starts_at, meeting.status == "cancelled", now)
                for mark in (None, core.PRESENT, core.ABSENT, core.EXCUSED)}))
        elif column.kind == TASK:
            task = tasks[column.id]
            plan.append((done, column.id, {flag: core.task_cell(
                flag, task.release_at, task.due_at, now) for flag in (True, False)}))
        elif column.kind == PROMPT:
            plan.append((answered, column.id, {flag: core.prompt_cell(
                flag, prompts[column.id].send_at, now) for flag in (True, False)}))
        else:
            survey = surveys[column.id]
            plan.append((completed, column.id, {flag: core.survey_cell(
                flag, survey.opens_at, survey.closes_at, now) for flag in (True, False)}))
    rows = []
    for summary in summaries_:
        pid = summary.participant_id
        cells = tuple(
            states.get(facts.get((pid, cid)), states[None]) if isinstance(facts, dict)
            else states[(pid, cid) in facts]
            for facts, cid, states in plan)
        rows.append(Row(summary, cells))
    return rows


def anonymous_rates(session: Session, cohort_id: int, now: datetime
                    ) -> tuple[AnonymousRate, ...]:
    """Per anonymous survey: invited and answered (stored plus waiting in the pool), counted
    in three grouped queries for all of them."""
    surveys = session.execute(select(Survey.id, Survey.key, Survey.title, Survey.opens_at)
                              .where(Survey.cohort_id == cohort_id, Survey.mode == "anonymous")
                              .order_by(Survey.opens_at, Survey.key)).all()
    ids = [s.id for s in surveys]
    if not ids:
        return ()

    def counted(model, column) -> dict[int, int]:
        return dict(session.execute(select(column, func.count()).where(column.in_(ids))
                                    .group_by(column)).all())
    invited = counted(Invitation, Invitation.survey_id)
    stored = counted(AnonymousResponse, AnonymousResponse.survey_id)
    pooled = counted(AnonymousAnswerPool, AnonymousAnswerPool.survey_id)
    return tuple(AnonymousRate(key, title, opens_at <= now, invited.get(sid, 0),
                               stored.get(sid, 0) + pooled.get(sid, 0))
                 for sid, key, title, opens_at in surveys)


def export_table(session: Session, cohort_id: int, filters: core.GridFilters,
                 now: datetime) -> Table:
    """The filtered rows with every cell, as a table for `core.spreadsheets` (formula-safe)."""
    cohort = get_cohort(session, cohort_id)
    columns = grid_columns(session, cohort_id)
    kept, _total = filtered_summaries(session, cohort, filters)
    table = Table("Progress", ["name", "email", "organisation", "missed", "tasks_done",
                               "answers", "link_opened",
                               *(f"{c.kind}:{c.key}" for c in columns)])
    for row in _rows(session, cohort_id, columns, kept, now):
        s = row.summary
        table.rows.append([s.name, s.email, s.organisation, s.missed, s.tasks_done, s.answers,
                           core.link_cell(s.link_opened), *row.cells])
    return table


# --- "remind these" -------------------------------------------------------------------------

def next_bundled(session: Session, cohort_id: int, participant_ids: list[int],
                 now: datetime) -> dict[int, datetime]:
    """Each participant's next pending bundled email (the earliest), counted in the database."""
    found: dict[int, datetime] = {}
    for chunk in (participant_ids[i:i + 500] for i in range(0, len(participant_ids), 500)):
        for pid, at in session.execute(
                select(Delivery.participant_id, func.min(Delivery.send_at))
                .where(Delivery.cohort_id == cohort_id, Delivery.participant_id.in_(chunk),
                       Delivery.state == kinds.PENDING, Delivery.resend_number == 0,
                       Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.send_at >= now)
                .group_by(Delivery.participant_id)):
            found[pid] = _aware(at)
    return found


def queue_messages(session: Session, cohort: Cohort, kind: str, anchor: str,
                   participants: list[tuple[int, str]], now: datetime,
                   urgent: bool = False) -> int:
    """One pending row of `kind`/`anchor` per (participant id, email), each at its time under
    the mail policy (`core.progress.message_send_at`). Returns how many were queued."""
    if not participants:
        return 0
    policy = mail_policy(cohort)
    upcoming = {} if urgent else next_bundled(session, cohort.id,
                                              [pid for pid, _e in participants], now)
    rows = [dict(cohort_id=cohort.id, participant_id=pid, kind=kind, anchor=anchor,
                 recipient=email, state=kinds.PENDING, attempts=0,
                 send_at=core.message_send_at(now, policy, upcoming.get(pid), urgent))
            for pid, email in participants]
    bulk_insert(session, Delivery, rows)
    return len(rows)


@dataclass(frozen=True)
class Reminded:
    queued: int
    already_waiting: int  # had a reminder from the grid still pending: none added


# How many names the confirmation shows before "and N more".
FEW_NAMES = 5


@dataclass(frozen=True)
class ReminderPlan:
    """Who "remind everyone the filters show" would email, for the facilitator to confirm."""

    recipients: int
    names: tuple[str, ...]  # the first FEW_NAMES of them, in the grid's order
    already_waiting: int  # shown by the filters, with a reminder still pending: none added
    fingerprint: str  # names exactly these recipients: the confirmation must carry it


class ConfirmationNeeded(Exception):
    """Reminding everyone the filters show was not confirmed, or the people it would remind
    changed since the confirmation was shown; nothing was queued."""

    def __init__(self, plan: ReminderPlan) -> None:
        super().__init__(f"{plan.recipients} reminder(s) to confirm")
        self.plan = plan


def _targets(session: Session, cohort_id: int, participant_ids: Iterable[int]
             ) -> tuple[list[tuple[int, str, str]], set[int]]:
    """(id, email, name) of the participants to remind, in the order given, and the ids of
    those left out because a reminder from the grid is still pending for them. An id not of
    this cohort (or erased) is NotFound."""
    wanted = list(dict.fromkeys(participant_ids))
    people = {pid: (email, name) for pid, email, name in session.execute(
        select(Participant.id, Participant.email, Participant.name).where(
            Participant.cohort_id == cohort_id, Participant.id.in_(wanted),
            Participant.erased_at.is_(None)))} if wanted else {}
    if len(people) != len(wanted):
        raise NotFound("a chosen participant is not in this cohort")
    waiting = set(session.scalars(select(Delivery.participant_id).where(
        Delivery.cohort_id == cohort_id, Delivery.kind == kinds.PROGRESS_REMINDER,
        Delivery.state == kinds.PENDING, Delivery.participant_id.in_(wanted)))) \
        if wanted else set()
    return [(pid, *people[pid]) for pid in wanted if pid not in waiting], waiting


def remind(session: Session, cohort_id: int, participant_ids: Iterable[int], actor: User | None,
           now: datetime) -> Reminded:
    """Queue one bundled `progress_reminder` to each of these participants of the cohort
    (ids from elsewhere are NotFound); people with one still pending get no second."""
    cohort = get_cohort(session, cohort_id)
    targets, waiting = _targets(session, cohort_id, participant_ids)
    return _queue_reminders(session, cohort, sorted(targets), len(waiting), actor, now)


def _queue_reminders(session: Session, cohort: Cohort, targets: list[tuple[int, str, str]],
                     already_waiting: int, actor: User | None, now: datetime) -> Reminded:
    anchors = session.scalars(select(Delivery.anchor).where(
        Delivery.cohort_id == cohort.id, Delivery.kind == kinds.PROGRESS_REMINDER)
        .distinct()).all()
    number = 1 + max((int(a.split(":", 1)[1]) for a in anchors
                      if a.split(":", 1)[-1].isdigit()), default=0)
    queued = queue_messages(session, cohort, kinds.PROGRESS_REMINDER, f"progress:{number}",
                            [(pid, email) for pid, email, _name in targets], now)
    if queued:
        log_activity(session, cohort.id, actor, PROGRESS_REMINDERS_QUEUED,
                     {"queued": queued, "already_waiting": already_waiting}, now=now)
    return Reminded(queued, already_waiting)


def _filtered_targets(session: Session, cohort: Cohort, filters: core.GridFilters
                      ) -> tuple[list[tuple[int, str, str]], ReminderPlan]:
    kept, _total = filtered_summaries(session, cohort, filters)
    targets, waiting = _targets(session, cohort.id, [r.participant_id for r in kept])
    digest = hashlib.sha256(("progress-reminders|" + ",".join(
        str(pid) for pid, _email, _name in sorted(targets))).encode()).hexdigest()[:16]
    return targets, ReminderPlan(len(targets), tuple(name for _pid, _email, name
                                                     in targets[:FEW_NAMES]),
                                 len(waiting), digest)


def plan_filtered_reminders(session: Session, cohort_id: int, filters: core.GridFilters
                            ) -> ReminderPlan:
    """Who reminding everyone `filters` show would email; nothing is queued."""
    return _filtered_targets(session, get_cohort(session, cohort_id), filters)[1]


def remind_filtered(session: Session, cohort_id: int, filters: core.GridFilters,
                    confirmed: str | None, actor: User | None, now: datetime) -> Reminded:
    """Remind everyone `filters` show, as `plan_filtered_reminders` showed them. Raises
    ConfirmationNeeded (queuing nothing) unless `confirmed` is the fingerprint of the plan
    these filters make now: a changed grid asks again."""
    cohort = get_cohort(session, cohort_id)
    targets, plan = _filtered_targets(session, cohort, filters)
    if confirmed != plan.fingerprint:
        raise ConfirmationNeeded(plan)
    return _queue_reminders(session, cohort, sorted(targets), plan.already_waiting, actor, now)


@dataclass(frozen=True)
class OpenItems:
    """What a progress reminder lists: released tasks not done, open identified surveys not
    answered. Anonymous surveys are left out: the outbox preview shows this email to staff,
    and whether a person answered an anonymous survey is not theirs to see."""

    tasks: tuple[tuple[str, datetime | None], ...]  # (title, due)
    surveys: tuple[tuple[str, datetime], ...]  # (title, closes)


def open_items(session: Session, participant_id: int, now: datetime) -> OpenItems:
    participant = session.get(Participant, participant_id)
    if participant is None:
        raise NotFound(f"no participant {participant_id}")
    done = select(TaskStatus.task_id).where(TaskStatus.participant_id == participant_id,
                                            TaskStatus.done_at.is_not(None))
    tasks = session.execute(select(Task.title, Task.due_at).where(
        Task.cohort_id == participant.cohort_id, Task.release_at <= now,
        Task.id.not_in(done)).order_by(Task.release_at, Task.key)).all()
    surveys = session.execute(select(Survey.title, Survey.closes_at)
                              .join(Invitation, Invitation.survey_id == Survey.id)
                              .where(Invitation.participant_id == participant_id,
                                     Invitation.completed.is_(False),
                                     Survey.mode == "identified", Survey.opens_at <= now,
                                     Survey.closes_at > now)
                              .order_by(Survey.closes_at, Survey.key)).all()
    return OpenItems(tuple((t, _aware(d) if d else None) for t, d in tasks),
                     tuple((t, _aware(c)) for t, c in surveys))
