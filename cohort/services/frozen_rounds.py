"""The pairs of each buddy round: kept as they were once the round is released.

A *round* is one buddy exchange task (services/buddy_check_ins.py). Its pairs are the groups
of the programme's buddy groupings in their latest rotation, but the evaluation report counts
released rounds, and an evaluator must be able to sign those figures: planning the groups
again, repairing them, moving a person or erasing one must not change how many pairs a past
round had or which of them met. So a released round's pairs are *frozen*: copied into
`frozen_buddy_round`/`frozen_buddy_member` (grouping, rotation, group number, participant) and
read from there from then on. Rounds not yet released follow the live groups.

Release is a moment (`Task.release_at`), not an event anything runs at, so freezing is done
by whoever is about to change what a round's pairs are made of: `freeze_released_rounds`
freezes every round released by `now` and not frozen yet, from the live groups, and every
path that writes `Group`/`GroupMember` or erases a person calls it first --
services.grouping's `_store` (plan, repair, store a proposal, move, form missing groups, and
so group_changes.apply), privacy.erase_participant (and so the retention purge) and
participants.remove_participant. Until the first such change the live groups are the
groups the round was released with, so the frozen pairs are the released ones. A round
released before the cohort had any buddy pair is not frozen (there is nothing to keep): the
first pairs formed are its pairs (a cohort made after its start, or grouped late). A check-in
freezes too (services.buddy_check_ins.record_check_in): the pairs its answer is counted for
are fixed when the first answer comes in. The participant's page reads a frozen round's
pairs too (`frozen_partners`): an old round names the buddy the participant had in it, and is
not offered to someone who was in none of its pairs; so do the round's emails
(`frozen_round_partners`), whose check-in link opens that page.

A frozen member row goes with its participant when the participant is *removed* (removal
takes a person out of every figure: their attendance, answers and invitations go too); an
*erased* participant keeps their row as the unnamed placeholder, so the round keeps its pair.
Rows go with their task and cohort.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from .. import db
from ..models import (
    FrozenBuddyMember,
    FrozenBuddyRound,
    Group,
    GroupMember,
    Participant,
    Task,
)
from ._lookup import cohort_programme, get_cohort

BUDDY_TASK = "buddy_exchange"


@dataclass(frozen=True)
class RoundPair:
    """One group of a buddy grouping in one round, with its member ids (ascending)."""

    grouping_key: str
    rotation: int
    number: int
    members: tuple[int, ...]


def buddy_grouping_keys(session: Session, cohort_id: int) -> list[str]:
    return [g.key for g in cohort_programme(get_cohort(session, cohort_id)).groupings
            if g.kind == "buddy"]


def live_pairs(session: Session, cohort_id: int) -> list[RoundPair]:
    """The groups of every buddy grouping in its latest rotation now, with their member ids
    (groups of one included: callers leave them out where only pairs count)."""
    keys = buddy_grouping_keys(session, cohort_id)
    if not keys:
        return []
    groups = session.scalars(select(Group).where(
        Group.cohort_id == cohort_id, Group.grouping_key.in_(keys),
    ).order_by(Group.grouping_key, Group.rotation, Group.number)).all()
    latest: dict[str, int] = {}
    for group in groups:
        latest[group.grouping_key] = max(latest.get(group.grouping_key, 0), group.rotation)
    chosen = [g for g in groups if g.rotation == latest[g.grouping_key]]
    members: dict[int, list[int]] = defaultdict(list)
    if chosen:
        for group_id, participant_id in session.execute(
                select(GroupMember.group_id, GroupMember.participant_id)
                .where(GroupMember.group_id.in_([g.id for g in chosen]))
                .order_by(GroupMember.participant_id)):
            members[group_id].append(participant_id)
    return [RoundPair(g.grouping_key, g.rotation, g.number, tuple(members[g.id]))
            for g in chosen]


def _released(session: Session, cohort_id: int, now: datetime) -> list[int]:
    return list(session.scalars(select(Task.id).where(
        Task.cohort_id == cohort_id, Task.kind == BUDDY_TASK, Task.release_at <= now)
        .order_by(Task.id)))


def _frozen(session: Session, task_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(task_ids))
    if not ids:
        return set()
    return set(session.scalars(select(FrozenBuddyRound.task_id)
                               .where(FrozenBuddyRound.task_id.in_(ids))))


def freeze_released_rounds(session: Session, cohort_id: int, now: datetime) -> int:
    """Keep the pairs of every buddy round of the cohort released by `now` and not kept yet,
    as the live groups have them (call it before changing the groups or erasing a person);
    how many rounds were frozen. Two statements when there is nothing to do."""
    released = _released(session, cohort_id, now)
    frozen = _frozen(session, released)
    todo = [task_id for task_id in released if task_id not in frozen]
    if not todo:
        return 0
    pairs = live_pairs(session, cohort_id)
    if not any(len(pair.members) >= 2 for pair in pairs):  # no pairs yet: nothing to keep
        return 0
    # Two check-ins just after a release may both get here first: the round rows go in with
    # ON CONFLICT DO NOTHING, and only the transaction whose rows went in adds the members.
    mine = set(session.scalars(db.upsert(session)(FrozenBuddyRound).values([
        dict(task_id=task_id, cohort_id=cohort_id, frozen_at=now) for task_id in todo])
        .on_conflict_do_nothing(index_elements=["task_id"])
        .returning(FrozenBuddyRound.task_id)))
    members = [dict(cohort_id=cohort_id, task_id=task_id, grouping_key=pair.grouping_key,
                    rotation=pair.rotation, number=pair.number, participant_id=member)
               for task_id in todo if task_id in mine
               for pair in pairs for member in pair.members]
    for start in range(0, len(members), 500):
        session.execute(insert(FrozenBuddyMember), members[start:start + 500])
    session.flush()
    return len(mine)


def round_pairs(session: Session, cohort_id: int, task_ids: Iterable[int]
                ) -> dict[int, list[RoundPair]]:
    """task id -> the round's pairs: the frozen ones for a frozen round, the live groups for
    any other (ordered by grouping, rotation and number, as the live ones are)."""
    task_ids = sorted(set(task_ids))
    frozen = _frozen(session, task_ids)
    found: dict[int, list[RoundPair]] = {}
    if frozen:
        groups: dict[tuple[int, str, int, int], list[int]] = defaultdict(list)
        for task_id, key, rotation, number, member in session.execute(
                select(FrozenBuddyMember.task_id, FrozenBuddyMember.grouping_key,
                       FrozenBuddyMember.rotation, FrozenBuddyMember.number,
                       FrozenBuddyMember.participant_id)
                .where(FrozenBuddyMember.task_id.in_(sorted(frozen)))
                .order_by(FrozenBuddyMember.task_id, FrozenBuddyMember.grouping_key,
                          FrozenBuddyMember.rotation, FrozenBuddyMember.number,
                          FrozenBuddyMember.participant_id)):
            groups[(task_id, key, rotation, number)].append(member)
        for task_id in frozen:
            found[task_id] = []
        for (task_id, key, rotation, number), members in groups.items():
            found[task_id].append(RoundPair(key, rotation, number, tuple(members)))
    if len(frozen) < len(task_ids):
        live = live_pairs(session, cohort_id)
        for task_id in task_ids:
            found.setdefault(task_id, live)
    return found


# Built once, with bound parameters: built per call (two aliases, three joins) it cost /me
# ten times what it takes to run, and a sixth of the page's throughput.
_MINE, _OTHER = aliased(FrozenBuddyMember), aliased(FrozenBuddyMember)
_FROZEN_PARTNERS = (
    select(FrozenBuddyRound.task_id, _OTHER.participant_id, Participant.name)
    .outerjoin(_MINE, (_MINE.task_id == FrozenBuddyRound.task_id)
               & (_MINE.participant_id == bindparam("participant_id")))
    .outerjoin(_OTHER, (_OTHER.task_id == _MINE.task_id)
               & (_OTHER.grouping_key == _MINE.grouping_key)
               & (_OTHER.rotation == _MINE.rotation) & (_OTHER.number == _MINE.number)
               & (_OTHER.participant_id != bindparam("participant_id")))
    .outerjoin(Participant, Participant.id == _OTHER.participant_id)
    .where(FrozenBuddyRound.task_id.in_(bindparam("task_ids", expanding=True))))


def frozen_partners(session: Session, participant_id: int, task_ids: Iterable[int]
                    ) -> dict[int, dict[int, str]]:
    """task id -> the ids and names of the others in the participant's frozen pair, for each
    of `task_ids` that is frozen (an empty dict where the round's pairs did not include them:
    they came later, or were alone); rounds not frozen are left out (their pairs are the live
    groups). One statement, none when `task_ids` is empty."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    found: dict[int, dict[int, str]] = {}
    for task_id, other_id, name in session.execute(
            _FROZEN_PARTNERS, {"participant_id": participant_id, "task_ids": ids}):
        partners = found.setdefault(task_id, {})
        if other_id is not None:
            partners[other_id] = name or ""
    return found


@dataclass(frozen=True)
class KeptPair:
    """A participant's pair in a frozen round, as an email names it."""

    grouping_key: str
    rotation: int
    partners: tuple[tuple[str, str], ...]  # the others' (name, email), sorted by name


def frozen_round_partners(session: Session, task_id: int) -> dict[int, KeptPair] | None:
    """participant id -> their pair in the round, for a frozen round (someone in none of its
    pairs is not in the dict); None while the round follows the live groups. For the round's
    emails, which name the same buddy the participant's page asks about (`frozen_partners`).
    Two statements."""
    if not _frozen(session, [task_id]):
        return None
    pairs: dict[tuple[str, int, int], list[tuple[int, str, str]]] = defaultdict(list)
    for key, rotation, number, member, name, email in session.execute(
            select(FrozenBuddyMember.grouping_key, FrozenBuddyMember.rotation,
                   FrozenBuddyMember.number, Participant.id, Participant.name,
                   Participant.email)
            .join(Participant, Participant.id == FrozenBuddyMember.participant_id)
            .where(FrozenBuddyMember.task_id == task_id)
            .order_by(Participant.name, Participant.id)):
        pairs[(key, rotation, number)].append((member, name, email))
    return {member: KeptPair(key, rotation, tuple((n, e) for other, n, e in members
                                                  if other != member))
            for (key, rotation, _number), members in pairs.items()
            for member, _name, _email in members}


__all__ = ["BUDDY_TASK", "KeptPair", "RoundPair", "buddy_grouping_keys",
           "freeze_released_rounds", "frozen_partners", "frozen_round_partners", "live_pairs",
           "round_pairs"]
