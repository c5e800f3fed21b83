"""What a change to one meeting would disturb of what people have recorded.

Cancelling a meeting takes the tasks, questions and surveys that belong to it out of the
plan, and their rows go with them: survey answers, task marks, reflection answers, buddy
check-ins. Moving a meeting moves the dates of what belongs to it, its evaluation survey too.
Two kinds of record decide whether a change is allowed at all, whatever the clock says:

- **attendance** recorded for the meeting (present or absent; someone excused in advance
  says nothing) says it was held: cancelling it, or moving it to another time, would
  rewrite history that the attendance figures and the report rest on;
- **survey answers** are the evaluation's evidence: a cancellation that deletes them, or a
  move of a meeting that has begun which shifts the window they were given in, is refused.

A meeting whose time has passed with neither (it did not take place: the facilitator fell
ill) can still be cancelled or moved. Participants' own work on items that leave the plan
(task marks, reflection answers, buddy check-ins) does not block a cancellation: the preview
counts it and the facilitator decides, with the box ticked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from ..core.attendance import EXCUSED
from ..core.replanning import MOVED, REMOVED, Change
from ..models import (
    AnonymousAnswerPool,
    AnonymousResponse,
    Attendance,
    BuddyCheckIn,
    IdentifiedResponse,
    Meeting,
    Prompt,
    PromptAnswer,
    Survey,
    Task,
    TaskStatus,
)

# Present or absent: marks only a meeting that took place gets. Someone excused in advance
# says nothing of whether it did (core/attendance.py allows that before the meeting).
HELD_MARK = Attendance.state != EXCUSED


@dataclass(frozen=True)
class AtStake:
    """Counts of what a change would delete or rewrite."""

    attendance: int = 0  # present or absent marks of the meeting (it was held)
    answers: int = 0  # survey answers, web and paper, named and anonymous
    task_marks: int = 0
    reflections: int = 0
    check_ins: int = 0

    @property
    def refused(self) -> bool:
        """Attendance or survey answers at stake: the change is not allowed."""
        return bool(self.attendance or self.answers)

    @property
    def work_deleted(self) -> int:
        return self.task_marks + self.reflections + self.check_ins


class MeetingChangeRefused(ValueError):
    """A change that would rewrite a meeting held or delete survey answers."""

    def __init__(self, meeting_key: str, at_stake: AtStake):
        self.meeting_key, self.at_stake = meeting_key, at_stake
        super().__init__(
            f"meeting '{meeting_key}' cannot be changed: {at_stake.attendance} attendance "
            f"mark(s) and {at_stake.answers} survey answer(s) rest on it as it is")


def at_stake(session: Session, cohort_id: int, meeting: Meeting, changes: Iterable[Change],
             *, cancelling: bool, begun: bool) -> AtStake:
    """What cancelling `meeting` (or moving it, `cancelling` False) would disturb, given the
    plan `changes` the change makes. Moving a meeting that has not begun disturbs nothing: its
    survey has not opened, and the tasks and questions that move keep their rows."""
    if not cancelling and not begun:
        return AtStake()
    # A cancellation deletes what leaves the plan; a move keeps the rows of tasks and
    # questions and shifts only the surveys' windows.
    wanted = REMOVED if cancelling else MOVED
    kinds = ("task", "prompt", "survey") if cancelling else ("survey",)
    keys = {kind: set() for kind in ("task", "prompt", "survey")}
    for change in changes:
        if change.item in kinds and change.status == wanted:
            keys[change.item].add(change.key)
    surveys = select(Survey.id).where(Survey.cohort_id == cohort_id,
                                      Survey.key.in_(sorted(keys["survey"])))
    tasks = select(Task.id).where(Task.cohort_id == cohort_id, Task.key.in_(sorted(keys["task"])))
    prompts = select(Prompt.id).where(Prompt.cohort_id == cohort_id,
                                      Prompt.key.in_(sorted(keys["prompt"])))

    def count(model, column, ids):
        return (select(func.count()).select_from(model).where(column.in_(ids))
                .scalar_subquery())

    row = session.execute(select(
        select(func.count()).select_from(Attendance)
        .where(Attendance.meeting_id == meeting.id, HELD_MARK).scalar_subquery(),
        count(IdentifiedResponse, IdentifiedResponse.survey_id, surveys),
        count(AnonymousResponse, AnonymousResponse.survey_id, surveys),
        count(AnonymousAnswerPool, AnonymousAnswerPool.survey_id, surveys),
        count(TaskStatus, TaskStatus.task_id, tasks),
        count(PromptAnswer, PromptAnswer.prompt_id, prompts),
        count(BuddyCheckIn, BuddyCheckIn.task_id, tasks),
    )).one()
    attendance, named, anonymous, pooled, marks, reflections, check_ins = row
    return AtStake(attendance=attendance, answers=named + anonymous + pooled,
                   task_marks=marks, reflections=reflections, check_ins=check_ins)


def meetings_held(session: Session, cohort_id: int) -> set[str]:
    """The keys of the cohort's meetings with attendance recorded (the plan offers neither
    cancelling nor moving them)."""
    return set(session.scalars(
        select(Meeting.key).where(Meeting.cohort_id == cohort_id,
                                  Meeting.id.in_(select(Attendance.meeting_id).where(
                                      Attendance.cohort_id == cohort_id, HELD_MARK)))))
