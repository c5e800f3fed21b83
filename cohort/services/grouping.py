"""Groupings of a cohort: plan and store them per rotation, list them with explanations and
violations, repair them when people leave or join, and the facilitator's edits (move a person,
lock or forbid a pair).

Every change is judged again in full before it is stored, so callers (CLI, the dashboard)
always get the current score, explanations, unmet goals and any broken hard rule. Group rows
keep their id and number where the group survives a change, so anything that refers to a group
(a quote attributed to "group 3") stays right.

Every write of the groups goes through `_store`, which first freezes the pairs of the buddy
rounds released by `now` (services/frozen_rounds.py): a change of the groups never changes a
released round's figures. The writers take `now` for that (the moment of the change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update
from sqlmodel import Session

from ..core import grouping as core
from ..core.programme import Grouping as GroupingTemplate
from ..models import Cohort, Group, GroupingRule, GroupMember, Participant, utcnow
from ._lookup import NotFound, cohort_programme, get_cohort
from .frozen_rounds import freeze_released_rounds

Numbered = list[tuple[int, list[str]]]  # one rotation: (group number, member emails)


class GroupingProblem(ValueError):
    """A grouping that cannot be made or an edit that makes no sense (clear message)."""


@dataclass(frozen=True)
class GroupsView:
    """One grouping of a cohort as stored, judged now."""

    cohort_id: int
    grouping_key: str
    title: str
    kind: str
    result: core.Grouping
    numbers: tuple[tuple[int, ...], ...]  # group numbers, per rotation, in result order

    @property
    def planned(self) -> bool:
        return bool(self.result.rotations)

    def as_dict(self) -> dict:
        """The `cohort groups --json` contract, plus the grouping's key and unmet goals."""
        data = self.result.as_dict()
        if not self.planned:
            data["score"] = None
        return {"grouping": self.grouping_key, **data}


@dataclass(frozen=True)
class RepairView:
    view: GroupsView
    changed_groups: int
    new_partner: tuple[str, ...]  # emails of people with a partner they did not have before


@dataclass(frozen=True)
class ParticipantGroup:
    """A participant's group in one rotation of one grouping (for emails and their page)."""

    grouping_key: str
    title: str
    rotation: int
    number: int
    explanation: str
    partners: tuple[tuple[str, str], ...]  # (name, email), sorted by name


# --- reading ------------------------------------------------------------------------------

def groupings(session: Session, cohort_id: int) -> list[GroupingTemplate]:
    return list(cohort_programme(get_cohort(session, cohort_id)).groupings)


def grouping_template(cohort: Cohort, key: str | None) -> GroupingTemplate:
    """The programme's grouping `key` (None: its first), or NotFound naming the ones there are."""
    templates = cohort_programme(cohort).groupings
    if not templates:
        raise NotFound(f"the programme of cohort {cohort.id} has no groupings")
    if key is None:
        return templates[0]
    for template in templates:
        if template.key == key:
            return template
    known = ", ".join(t.key for t in templates)
    raise NotFound(f"cohort {cohort.id} has no grouping '{key}' (groupings: {known})")


def _participants(session: Session, cohort_id: int) -> list[Participant]:
    return list(session.scalars(select(Participant).where(Participant.cohort_id == cohort_id)
                                .order_by(Participant.email)))


def _person(participant: Participant) -> core.Person:
    return core.Person(id=participant.email, name=participant.name,
                       organisation=participant.organisation, role=participant.role,
                       language=participant.language)


def _rules(session: Session, cohort_id: int, key: str) -> core.Rules:
    rows = session.execute(
        select(GroupingRule.kind, Participant.email, GroupingRule.second_id)
        .join(Participant, Participant.id == GroupingRule.first_id)
        .where(GroupingRule.cohort_id == cohort_id,
               or_(GroupingRule.grouping_key == "", GroupingRule.grouping_key == key))
        .order_by(GroupingRule.id)).all()
    emails = dict(session.execute(select(Participant.id, Participant.email)
                                  .where(Participant.cohort_id == cohort_id)).all())
    together = tuple((a, emails[b]) for kind, a, b in rows if kind == "together")
    apart = tuple((a, emails[b]) for kind, a, b in rows if kind == "apart")
    return core.Rules(together=together, apart=apart)


def _stored(session: Session, cohort_id: int, key: str) -> list[Numbered]:
    """The stored groups of a grouping: per rotation (1, 2, ...), (number, emails) by number."""
    groups = session.execute(select(Group.id, Group.rotation, Group.number).where(
        Group.cohort_id == cohort_id, Group.grouping_key == key)
        .order_by(Group.rotation, Group.number)).all()
    members: dict[int, list[str]] = {gid: [] for gid, _, _ in groups}
    for gid, email in session.execute(
            select(GroupMember.group_id, Participant.email)
            .join(Participant, Participant.id == GroupMember.participant_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.cohort_id == cohort_id, Group.grouping_key == key)):
        members[gid].append(email)
    rotations: dict[int, Numbered] = {}
    for gid, rotation, number in groups:
        rotations.setdefault(rotation, []).append((number, sorted(members[gid])))
    return [rotations[r] for r in sorted(rotations)]


def _judge(session: Session, cohort: Cohort, template: GroupingTemplate,
           rotations: Sequence[Numbered]) -> GroupsView:
    people = [_person(p) for p in _participants(session, cohort.id)]
    result = core.evaluate(people, core.GroupingSpec.from_programme(template),
                           [[members for _, members in rotation] for rotation in rotations],
                           rules=_rules(session, cohort.id, template.key),
                           language=cohort.language,
                           numbers=[[number for number, _ in rotation] for rotation in rotations])
    numbers = tuple(tuple(number for number, _ in rotation) for rotation in rotations)
    return GroupsView(cohort.id, template.key, template.title or template.key, template.kind,
                      result, numbers)


def list_groups(session: Session, cohort_id: int, grouping_key: str | None = None,
                rotation: int | None = None) -> GroupsView:
    """A grouping as stored (or one rotation of it), judged now: explanations, score,
    unmet goals and violations (e.g. people who joined since and are in no group)."""
    cohort = get_cohort(session, cohort_id)
    template = grouping_template(cohort, grouping_key)
    view = _judge(session, cohort, template, _stored(session, cohort_id, template.key))
    if rotation is None:
        return view
    if not 1 <= rotation <= len(view.result.rotations):
        raise NotFound(f"grouping '{template.key}' of cohort {cohort_id} has no rotation "
                       f"{rotation}")
    only = view.result.rotations[rotation - 1]
    return GroupsView(view.cohort_id, view.grouping_key, view.title, view.kind,
                      core.Grouping((only,)), (view.numbers[rotation - 1],))


def participant_names(session: Session, cohort_id: int) -> dict[str, str]:
    """Email -> name, to print groups for people."""
    return dict(session.execute(select(Participant.email, Participant.name)
                                .where(Participant.cohort_id == cohort_id)).all())


def participant_groups(session: Session, participant_id: int) -> list[ParticipantGroup]:
    """Every group a participant is in, with partners, for their emails and their page."""
    participant = session.get(Participant, participant_id)
    if participant is None:
        raise NotFound(f"no participant {participant_id}")
    return participants_groups(session, [participant])[participant.id]


def participants_groups(session: Session, participants: Sequence[Participant]
                        ) -> dict[int, list[ParticipantGroup]]:
    """`participant_groups` of many participants in two queries (the outbox composes a batch
    of welcomes at once): their groups, then every member of those groups."""
    found: dict[int, list[ParticipantGroup]] = {p.id: [] for p in participants}
    if not found:
        return found
    titles = {}
    for cohort_id in sorted({p.cohort_id for p in participants}):
        titles[cohort_id] = {t.key: t.title or t.key for t in
                             cohort_programme(get_cohort(session, cohort_id)).groupings}
    cohort_of = {p.id: p.cohort_id for p in participants}
    ids = sorted(found)
    memberships = []
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        memberships += session.execute(
            select(GroupMember.participant_id, Group)
            .join(Group, GroupMember.group_id == Group.id)
            .where(GroupMember.participant_id.in_(chunk))).all()
    group_ids = sorted({group.id for _pid, group in memberships})
    members: dict[int, list[tuple[str, str, int]]] = {}
    for chunk in (group_ids[i:i + 500] for i in range(0, len(group_ids), 500)):
        for group_id, pid, name, email in session.execute(
                select(GroupMember.group_id, Participant.id, Participant.name, Participant.email)
                .join(Participant, GroupMember.participant_id == Participant.id)
                .where(GroupMember.group_id.in_(chunk))
                .order_by(GroupMember.group_id, Participant.name)):
            members.setdefault(group_id, []).append((name, email, pid))
    for pid, group in sorted(memberships, key=lambda m: (m[1].grouping_key, m[1].rotation)):
        partners = [(name, email) for name, email, other in members.get(group.id, ())
                    if other != pid]  # in the database's order of names
        found[pid].append(ParticipantGroup(
            group.grouping_key, titles[cohort_of[pid]].get(group.grouping_key, ""),
            group.rotation, group.number, group.explanation, tuple(partners)))
    return found


# --- planning and repair ------------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    """New groups for one grouping, not stored yet, next to the stored ones (per rotation,
    the groups' member emails): what `plan_groups` or `repair_groups` would store."""

    grouping_key: str
    before: list[list[list[str]]]
    after: list[list[list[str]]]
    changed_groups: int = 0
    new_partner: tuple[str, ...] = ()


def propose_plan(session: Session, cohort_id: int, grouping_key: str | None = None,
                 seed: int = 0) -> Proposal:
    """Every rotation of a grouping planned afresh (the same seed, the same groups)."""
    cohort = get_cohort(session, cohort_id)
    template = grouping_template(cohort, grouping_key)
    people = [_person(p) for p in _participants(session, cohort_id)]
    spec = core.GroupingSpec.from_programme(template)
    _check_enough(template.key, len(people), spec)
    result = core.plan(people, spec, rules=_rules(session, cohort_id, template.key), seed=seed,
                       language=cohort.language)
    return Proposal(template.key, _members(session, cohort_id, template.key), result.members())


def propose_repair(session: Session, cohort_id: int, grouping_key: str | None = None,
                   seed: int = 0) -> Proposal:
    """The stored groups fitted to the participants and rules now, changing as few groups as
    possible (see core.grouping.repair)."""
    cohort = get_cohort(session, cohort_id)
    template = grouping_template(cohort, grouping_key)
    stored = _members(session, cohort_id, template.key)
    if not stored:
        raise GroupingProblem(f"{template.key}: no groups to repair yet; plan them first")
    people = [_person(p) for p in _participants(session, cohort_id)]
    spec = core.GroupingSpec.from_programme(template)
    _check_enough(template.key, len(people), spec)
    repaired = core.repair(people, spec, stored, rules=_rules(session, cohort_id, template.key),
                           seed=seed, language=cohort.language)
    return Proposal(template.key, stored, repaired.grouping.members(), repaired.changed_groups,
                    repaired.new_partner)


def _members(session: Session, cohort_id: int, key: str) -> list[list[list[str]]]:
    return [[members for _, members in rotation] for rotation in _stored(session, cohort_id, key)]


def plan_groups(session: Session, cohort_id: int, grouping_key: str | None = None,
                seed: int = 0, now: datetime | None = None) -> GroupsView:
    """Plan every rotation of a grouping afresh and store it (replacing what was there).
    Nobody is told: services.group_changes does that for groups already announced."""
    return store_proposal(session, cohort_id, propose_plan(session, cohort_id, grouping_key, seed),
                          now)


def _check_enough(key: str, count: int, spec: core.GroupingSpec) -> None:
    if not core.can_group(count, spec):
        low, high = spec.size
        raise GroupingProblem(f"{key}: {count} participant(s) cannot form groups of "
                              f"{low}-{high}")


def repair_groups(session: Session, cohort_id: int, grouping_key: str | None = None,
                  seed: int = 0, now: datetime | None = None) -> RepairView:
    """Bring stored groups in line with the participants and rules now, changing as few
    groups as possible (see core.grouping.repair)."""
    proposal = propose_repair(session, cohort_id, grouping_key, seed)
    view = store_proposal(session, cohort_id, proposal, now)
    return RepairView(view, proposal.changed_groups, proposal.new_partner)


def store_proposal(session: Session, cohort_id: int, proposal: Proposal,
                   now: datetime | None = None) -> GroupsView:
    """Store proposed groups (keeping the rows and numbers of the groups they mostly are)."""
    cohort = get_cohort(session, cohort_id)
    template = grouping_template(cohort, proposal.grouping_key)
    return _save(session, cohort, template, proposal.after, now)


def form_missing_groups(session: Session, cohort: Cohort, seed: int = 0,
                        now: datetime | None = None) -> list[str]:
    """Plan each grouping of the programme that has no groups yet, if there are enough
    participants; the keys of the groupings formed. Called when a cohort is created and
    after participants are imported."""
    participants = len(_participants(session, cohort.id))
    formed = []
    for template in cohort_programme(cohort).groupings:
        spec = core.GroupingSpec.from_programme(template)
        if _stored(session, cohort.id, template.key) or not core.can_group(participants, spec):
            continue
        plan_groups(session, cohort.id, template.key, seed, now)
        formed.append(template.key)
    return formed


# --- the facilitator's edits --------------------------------------------------------------

def move_participant(session: Session, cohort_id: int, email: str, to_group: int | None,
                     rotation: int = 1, grouping_key: str | None = None,
                     now: datetime | None = None) -> GroupsView:
    """Move a person into group `to_group` of a rotation (None: into a new group of their own).
    The move is stored even if it breaks a rule; the returned view lists the violations.
    Nobody is told: services.group_changes does that for groups already announced."""
    cohort = get_cohort(session, cohort_id)
    template = grouping_template(cohort, grouping_key)
    return _store(session, cohort, template,
                  _moved(session, cohort_id, template, email, to_group, rotation), now)


def propose_move(session: Session, cohort_id: int, email: str, to_group: int | None,
                 rotation: int = 1, grouping_key: str | None = None) -> Proposal:
    """The groups before and after moving a person (what `move_participant` would store)."""
    cohort = get_cohort(session, cohort_id)
    template = grouping_template(cohort, grouping_key)
    moved = _moved(session, cohort_id, template, email, to_group, rotation)
    return Proposal(template.key, _members(session, cohort_id, template.key),
                    [[members for _, members in groups] for groups in moved])


def _moved(session: Session, cohort_id: int, template: GroupingTemplate, email: str,
           to_group: int | None, rotation: int) -> list[Numbered]:
    email = participant_by_email(session, cohort_id, email).email
    stored = _stored(session, cohort_id, template.key)
    if not 1 <= rotation <= len(stored):
        raise NotFound(f"grouping '{template.key}' has no rotation {rotation}")
    groups = {number: [m for m in members if m != email] for number, members in
              stored[rotation - 1]}
    if to_group is None:
        to_group = max(groups, default=0) + 1
        groups[to_group] = []
    elif to_group not in groups:
        raise NotFound(f"rotation {rotation} of '{template.key}' has no group {to_group}")
    groups[to_group].append(email)
    stored[rotation - 1] = [(n, sorted(m)) for n, m in sorted(groups.items()) if m]
    return stored


def participant_by_email(session: Session, cohort_id: int, email: str) -> Participant:
    """The cohort's participant with this address (any case, spaces around), or NotFound."""
    found = session.scalars(select(Participant).where(
        Participant.cohort_id == cohort_id,
        Participant.email == email.strip().lower())).one_or_none()
    if found is None:
        raise NotFound(f"cohort {cohort_id} has no participant {email}")
    return found


# --- storing ------------------------------------------------------------------------------

def _save(session: Session, cohort: Cohort, template: GroupingTemplate,
          rotations: list[list[list[str]]], now: datetime | None) -> GroupsView:
    """Store new groups, keeping the number (and row) of each old group they mostly are."""
    stored = _stored(session, cohort.id, template.key)
    numbered = [_number(stored[r] if r < len(stored) else [], groups)
                for r, groups in enumerate(rotations)]
    return _store(session, cohort, template, numbered, now)


def _number(old: Numbered, new: list[list[str]]) -> Numbered:
    """Give each new group the number of the old group it shares most people with; new
    groups get the smallest free numbers (so a dissolved group's number is reused)."""
    home = {m: number for number, members in old for m in members}
    overlaps = []
    for index, members in enumerate(new):
        counts: dict[int, int] = {}
        for m in members:
            if m in home:
                counts[home[m]] = counts.get(home[m], 0) + 1
        overlaps.extend((-count, number, index) for number, count in counts.items())
    taken: dict[int, int] = {}
    used: set[int] = set()
    for _, number, index in sorted(overlaps):
        if index not in taken and number not in used:
            taken[index] = number
            used.add(number)
    free = (n for n in range(1, len(new) + len(old) + 2) if n not in used)
    for index in range(len(new)):
        if index not in taken:
            taken[index] = next(free)
    return sorted((taken[index], sorted(members)) for index, members in enumerate(new))


def _store(session: Session, cohort: Cohort, template: GroupingTemplate,
           rotations: list[Numbered], now: datetime | None) -> GroupsView:
    """Write the groups with their new explanations in a few bulk statements; the rows of
    surviving (rotation, number) pairs are kept. The buddy rounds released by `now` (the
    moment of the change; the clock's when None) keep their pairs first."""
    freeze_released_rounds(session, cohort.id, now or utcnow())
    view = _judge(session, cohort, template, rotations)
    ids = dict(session.execute(select(Participant.email, Participant.id)
                               .where(Participant.cohort_id == cohort.id)).all())
    rows = {(r, n): (gid, text) for gid, r, n, text in session.execute(
        select(Group.id, Group.rotation, Group.number, Group.explanation).where(
            Group.cohort_id == cohort.id, Group.grouping_key == template.key))}
    links = {(gid, pid): link for link, gid, pid in session.execute(
        select(GroupMember.id, GroupMember.group_id, GroupMember.participant_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.cohort_id == cohort.id, Group.grouping_key == template.key))}
    wanted_links: set[tuple[int, int]] = set()
    explanations, new_rows, new_members = [], [], []
    for r, (rotation, judged) in enumerate(zip(rotations, view.result.rotations, strict=True),
                                           start=1):
        for (number, emails), group in zip(rotation, judged.groups, strict=True):
            pids = [ids[e] for e in emails if e in ids]
            if (r, number) not in rows:
                new_rows.append(dict(cohort_id=cohort.id, grouping_key=template.key, rotation=r,
                                     number=number, explanation=group.explanation))
                new_members.append(pids)
                continue
            gid, text = rows.pop((r, number))
            if text != group.explanation:
                explanations.append({"id": gid, "explanation": group.explanation})
            wanted_links.update((gid, pid) for pid in pids)
    gone = [link for key, link in links.items() if key not in wanted_links]
    gone_groups = [gid for gid, _ in rows.values()]
    for chunk in _chunks(gone):
        session.execute(delete(GroupMember).where(GroupMember.id.in_(chunk)))
    for chunk in _chunks(gone_groups):
        session.execute(delete(GroupMember).where(GroupMember.group_id.in_(chunk)))
        session.execute(delete(Group).where(Group.id.in_(chunk)))
    if explanations:
        session.execute(update(Group), explanations)
    added = [dict(group_id=gid, participant_id=pid) for gid, pid in sorted(wanted_links)
             if (gid, pid) not in links]
    if new_rows:
        created = session.execute(insert(Group).returning(Group.id, sort_by_parameter_order=True),
                                  new_rows)
        added += [dict(group_id=gid, participant_id=pid)
                  for (gid,), pids in zip(created, new_members, strict=True) for pid in pids]
    if added:
        session.execute(insert(GroupMember), added)
    session.flush()
    return view


def _chunks(values: list[int], size: int = 1000) -> list[list[int]]:
    """IN lists of bounded length (SQLite limits the number of bound parameters)."""
    return [values[i:i + size] for i in range(0, len(values), size)]
