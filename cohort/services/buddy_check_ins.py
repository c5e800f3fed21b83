"""Buddy check-ins: the participant's one-tap answer after a buddy exchange task, the
facilitator's view of the pairs that have not met, and the counts the report uses.

A *round* is one buddy exchange task of the cohort (`buddy-exchange@workshop-1`). Its pairs
are the groups of the programme's buddy groupings in their latest rotation (the groups the
emails name) until the round is released; a released round keeps the pairs it was released
with, whatever happens to the groups or people later (services/frozen_rounds.py), so its
counts and the report's figures do not change, and the participant's page names the buddy of
that round's pair. How a pair's members' answers make the pair's status is
`core.buddy_check_ins`.

A check-in is an identified answer (the facilitator sees which pairs have not met), not an
anonymous survey answer: erasing a participant keeps it, as attendance is kept, with its note
blanked and unshared (services/privacy.py), so the rounds' figures stay as they were.

Every participant function looks ids up inside the participant's own cohort only: anything
else is NotFound.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from ..core.buddy_check_ins import ANSWERS, MET, NO_ANSWER, RoundCount, count_round, pair_status
from ..core.spreadsheets import Table
from ..models import BuddyCheckIn, Meeting, Participant, Task
from ._lookup import NotFound, get_cohort
from .frozen_rounds import (
    BUDDY_TASK,
    freeze_released_rounds,
    frozen_partners,
    live_pairs,
    round_pairs,
)

MAX_NOTE = 300  # one line


@dataclass(frozen=True)
class CheckInItem:
    """One buddy exchange task on the participant's page, with their answer so far."""

    task_id: int
    title: str
    release_at: datetime
    due_at: datetime | None
    answer: str | None  # met | not_yet | could_not | None (not answered)
    note: str
    shared: bool
    buddies: tuple[str, ...]  # the names of the others in the pair


@dataclass(frozen=True)
class PairRow:
    """One pair in one round, for the facilitator."""

    grouping_key: str
    number: int
    rotation: int
    members: tuple[str, ...]  # names
    status: str  # met | not_yet | could_not | no_answer


@dataclass(frozen=True)
class SharedNote:
    name: str
    note: str


@dataclass(frozen=True)
class RoundView:
    """One round for the facilitator: the counts, the pairs that have not met, the notes."""

    task_id: int
    key: str
    title: str
    meeting_title: str  # the meeting the exchange follows
    release_at: datetime
    count: RoundCount
    pairs: tuple[PairRow, ...]  # every pair, with its status
    notes: int  # how many wrote a line about what they talked about
    shared: tuple[SharedNote, ...]  # the lines their writers chose to share

    @property
    def not_met(self) -> tuple[PairRow, ...]:
        return tuple(p for p in self.pairs if p.status != MET)


def _rounds(session: Session, cohort_id: int, now: datetime | None) -> list[Task]:
    """The cohort's buddy exchange tasks (released by `now`, when given), in release order."""
    query = select(Task).where(Task.cohort_id == cohort_id, Task.kind == BUDDY_TASK)
    if now is not None:
        query = query.where(Task.release_at <= now)
    return list(session.scalars(query.order_by(Task.release_at, Task.id)))


def _answers(session: Session, task_ids: list[int]) -> dict[int, dict[int, BuddyCheckIn]]:
    """task id -> participant id -> their check-in."""
    found: dict[int, dict[int, BuddyCheckIn]] = defaultdict(dict)
    if task_ids:
        for row in session.scalars(select(BuddyCheckIn).where(
                BuddyCheckIn.task_id.in_(task_ids))):
            found[row.task_id][row.participant_id] = row
    return found


def buddy_pairs(session: Session, cohort_id: int) -> list[tuple[int, ...]]:
    """The member ids of each pair (or group of three) of the cohort's buddy scheme, in its
    latest rotation; groups of one are not pairs."""
    return [pair.members for pair in live_pairs(session, cohort_id) if len(pair.members) >= 2]


# --- the participant ------------------------------------------------------------------------

@dataclass(frozen=True)
class BuddyRound:
    """A released buddy exchange task with the participant's answer to it so far (the
    participant's page reads them with its other tasks)."""

    task_id: int
    title: str
    release_at: datetime
    due_at: datetime | None
    answer: str | None = None  # met | not_yet | could_not | None (not answered)
    note: str = ""
    shared: bool = False


def participant_check_ins(session: Session, participant: Participant, now: datetime
                          ) -> list[CheckInItem]:
    """The released buddy exchange tasks the participant can answer for (they had a buddy in
    that round), latest first."""
    pairs = [pair.members for pair in live_pairs(session, participant.cohort_id)
             if participant.id in pair.members and len(pair.members) >= 2]
    others = {p for members in pairs for p in members if p != participant.id}
    names = dict(session.execute(select(Participant.id, Participant.name)
                                 .where(Participant.id.in_(others))).all()) if others else {}
    mine = {row.task_id: row for row in session.scalars(select(BuddyCheckIn).where(
        BuddyCheckIn.participant_id == participant.id))}
    rounds = []
    for task in _rounds(session, participant.cohort_id, now):
        row = mine.get(task.id)
        rounds.append(BuddyRound(task.id, task.title, task.release_at, task.due_at,
                                 row.answer if row else None, row.note if row else "",
                                 row.shared if row else False))
    frozen = frozen_partners(session, participant.id, [r.task_id for r in rounds])
    return check_in_items(rounds, names, frozen)


def check_in_items(rounds: list[BuddyRound], buddies: dict[int, str],
                   frozen: dict[int, dict[int, str]]) -> list[CheckInItem]:
    """The check-ins of `participant_check_ins` from what a caller has read already: the
    released rounds in release order with the participant's answers; the ids and names of
    the others in the participant's pairs now (`buddies`); and, for each frozen round, the
    others in the pair it was released with (`frozen_rounds.frozen_partners`). A frozen
    round names the buddy the participant had then, not the one they have after a
    regrouping, and is left out where they had none (they joined later); a round not frozen
    yet names today's buddies, and is left out when there are none."""
    items = []
    for task in reversed(rounds):
        others = frozen.get(task.task_id, buddies)
        if others:
            items.append(CheckInItem(task.task_id, task.title, task.release_at, task.due_at,
                                     task.answer, task.note, task.shared,
                                     tuple(sorted(others.values()))))
    return items


def check_in_for(session: Session, participant: Participant, task_id: int, now: datetime
                 ) -> CheckInItem:
    """One released buddy exchange task of the participant's cohort, or NotFound."""
    for item in participant_check_ins(session, participant, now):
        if item.task_id == task_id:
            return item
    raise NotFound(f"no buddy check-in {task_id} for this participant")


def record_check_in(session: Session, participant: Participant, task_id: int, answer: str,
                    now: datetime, note: str = "", shared: bool = False) -> BuddyCheckIn:
    """Store (or replace) the participant's answer for one buddy exchange task. The released
    rounds' pairs are frozen first: the pairs an answer counts for are fixed from the first
    answer on."""
    if answer not in ANSWERS:
        raise ValueError(f"'{answer}' is not an answer ({', '.join(ANSWERS)})")
    check_in_for(session, participant, task_id, now)  # NotFound for anything else
    freeze_released_rounds(session, participant.cohort_id, now)
    row = session.scalars(select(BuddyCheckIn).where(
        BuddyCheckIn.participant_id == participant.id, BuddyCheckIn.task_id == task_id,
    )).one_or_none() or BuddyCheckIn(participant_id=participant.id, task_id=task_id,
                                     answer=answer)
    row.answer = answer
    row.note = " ".join(note.split())[:MAX_NOTE]
    row.shared = bool(shared and row.note)
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


# --- the facilitator and the report ---------------------------------------------------------

def buddy_rounds(session: Session, cohort_id: int, now: datetime) -> list[RoundView]:
    """Each released round: its counts, the pairs that have not (yet) met, and the notes
    (counted; a note is shown with its writer's name only when they chose to share it). A
    frozen round's pairs are the ones it was released with (an erased member is named by the
    erased placeholder)."""
    get_cohort(session, cohort_id)
    tasks = _rounds(session, cohort_id, now)
    if not tasks:
        return []
    pairs_of = round_pairs(session, cohort_id, [t.id for t in tasks])
    names = dict(session.execute(select(Participant.id, Participant.name)
                                 .where(Participant.cohort_id == cohort_id)).all())
    answers = _answers(session, [t.id for t in tasks])
    meetings = dict(session.execute(select(Meeting.key, Meeting.title)
                                    .where(Meeting.cohort_id == cohort_id)).all())
    views = []
    for task in tasks:
        given = answers.get(task.id, {})
        pairs = pairs_of[task.id]
        count = count_round(task.key, [pair.members for pair in pairs],
                            {p: row.answer for p, row in given.items()})
        rows = [PairRow(pair.grouping_key, pair.number, pair.rotation,
                        tuple(names.get(p, "") for p in pair.members),
                        pair_status(given[p].answer for p in pair.members if p in given))
                for pair in pairs if len(pair.members) >= 2]
        notes = [row for row in given.values() if row.note]
        views.append(RoundView(
            task.id, task.key, task.title, meetings.get(task.meeting_key, ""), task.release_at,
            count, tuple(rows), len(notes),
            tuple(SharedNote(names.get(row.participant_id, ""), row.note)
                  for row in sorted(notes, key=lambda r: names.get(r.participant_id, ""))
                  if row.shared)))
    return views


def buddy_round_counts(session: Session, cohort_id: int, now: datetime
                       ) -> list[tuple[str, str, datetime, RoundCount]]:
    """(task key, title, release time, counts) of each released round, for the report; the
    title is the meeting the exchange follows (every round has the task's title)."""
    return [(v.key, v.meeting_title or v.title, v.release_at, v.count)
            for v in buddy_rounds(session, cohort_id, now)]


def buddy_rounds_table(session: Session, cohort_id: int, now: datetime) -> Table:
    """The export behind the report's buddy figures: one row per pair and released round,
    with its status (no names and no notes: the pair's group number and size only)."""
    zone = ZoneInfo(get_cohort(session, cohort_id).timezone)
    rows = [[view.key, view.meeting_title, view.release_at.astimezone(zone).date(),
             pair.grouping_key, pair.number, len(pair.members), pair.status]
            for view in buddy_rounds(session, cohort_id, now) for pair in view.pairs]
    return Table("Buddy check-ins", ["round", "meeting", "released", "grouping", "group",
                                     "members", "status"], rows)


__all__ = ["BUDDY_TASK", "NO_ANSWER", "BuddyRound", "CheckInItem", "PairRow", "RoundView",
           "SharedNote",
           "buddy_pairs", "buddy_round_counts", "buddy_rounds", "buddy_rounds_table",
           "check_in_for", "check_in_items", "participant_check_ins", "record_check_in"]
