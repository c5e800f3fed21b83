"""A released buddy round keeps its pairs: its counts, statuses, export rows and the report's
figures are the same after the groups are planned again, repaired, a person moved, erased or
the cohort purged; rounds released later count the new groups (SQLite and PostgreSQL)."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.demo import demo_participants
from cohort.models import BuddyCheckIn, FrozenBuddyMember, FrozenBuddyRound, Participant, Task
from cohort.services import (
    buddy_check_ins,
    frozen_rounds,
    group_changes,
    grouping,
    participants,
    privacy,
)

SERVICES = Path(services.__file__).parent


def first_rounds(session, cohort_id: int) -> list[Task]:
    return list(session.scalars(select(Task).where(
        Task.cohort_id == cohort_id, Task.kind == "buddy_exchange")
        .order_by(Task.release_at, Task.id)))


@pytest.fixture
def cohort(engine, make_cohort):
    """12 people in buddy pairs (formed when the cohort was made, before any round), the first
    round released an hour ago with answers stored as rows (record_check_in would freeze the
    round itself: these tests are about the paths that change the groups)."""
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        first, second = first_rounds(session, cohort_id)[:2]
        moment = first.release_at + timedelta(hours=1)
        pairs = buddy_check_ins.buddy_pairs(session, cohort_id)
        assert len(pairs) >= 4
        answers = ["met", "met", "could_not", "not_yet"]
        for members, answer in zip(pairs, answers, strict=False):
            session.add(BuddyCheckIn(participant_id=members[0], task_id=first.id, answer=answer,
                                     note="En linje", shared=True, updated_at=moment))
        assert not session.scalars(select(FrozenBuddyRound)).all()
        return dict(id=cohort_id, first=first.id, second=second.id, moment=moment,
                    second_release=second.release_at, pairs=pairs)


def figures(session, cohort_id: int, now: datetime) -> dict:
    """What an evaluator signs of the buddy rounds released by `now`, and the pairs behind
    them (member ids: an erased member keeps their id)."""
    tasks = [t.id for t in first_rounds(session, cohort_id) if t.release_at <= now]
    report = services.cohort_report(session, cohort_id, now=now, words=False)
    return {
        "counts": buddy_check_ins.buddy_round_counts(session, cohort_id, now),
        "table": buddy_check_ins.buddy_rounds_table(session, cohort_id, now).rows,
        "statuses": [[(p.grouping_key, p.number, len(p.members), p.status) for p in v.pairs]
                     for v in services.buddy_rounds(session, cohort_id, now)],
        "facts": services.report_facts(session, cohort_id, now=now).buddy_rounds,
        "report": report.behaviour.buddy_rounds,
        "pairs": frozen_rounds.round_pairs(session, cohort_id, tasks),
    }


def live(session, cohort_id: int) -> list[tuple[int, ...]]:
    return sorted(buddy_check_ins.buddy_pairs(session, cohort_id))


def email_of(session, participant_id: int) -> str:
    return session.get(Participant, participant_id).email


def _plan(session, c):
    services.plan_groups(session, c["id"], seed=99, now=c["moment"])


def _repair(session, c):
    participants.add_participant(session, c["id"], ParticipantRow(
        "Nyt Medlem", "ny@vejle.example", "Vejle Kommune", "Leder", "da"), None, c["moment"])
    services.repair_groups(session, c["id"], now=c["moment"])


def _store_proposal(session, c):
    proposal = grouping.propose_plan(session, c["id"], seed=5)
    grouping.store_proposal(session, c["id"], proposal, c["moment"])


def _move(session, c):
    first, second = c["pairs"][0], c["pairs"][1]
    view = services.list_groups(session, c["id"])
    number = next(n for n, g in zip(view.numbers[0], view.result.rotations[0].groups,
                                    strict=True)
                  if email_of(session, second[0]) in g.members)
    services.move_participant(session, c["id"], email_of(session, first[0]), number,
                              now=c["moment"])


def _apply(action):
    def change(session, c):
        move = None
        if action == "move":
            move = group_changes.Move(email_of(session, c["pairs"][0][0]), None)
        elif action == "repair":
            participants.add_participant(session, c["id"], ParticipantRow(
                "Nyt Medlem", "ny@vejle.example", "Vejle Kommune", "Leder", "da"), None,
                c["moment"])
        found = group_changes.preview(session, c["id"], action, seed=99, move=move)
        group_changes.apply(session, c["id"], action, seed=99, move=move,
                            confirmed=found.fingerprint, now=c["moment"])
    return change


def _erase(session, c):
    person = session.get(Participant, c["pairs"][0][0])
    privacy.erase_participant(session, person, None, c["moment"])


def _purge(session, c):
    later = c["moment"] + timedelta(days=3650)
    assert [p.cohort_id for p in privacy.purge_ended_cohorts(session, timedelta(days=1), later)
            ] == [c["id"]]


# Every service path that writes Group/GroupMember rows or erases a person
# (test_every_writer_of_the_groups_is_listed keeps this list whole).
PATHS = {"plan_groups": _plan, "repair_groups": _repair, "store_proposal": _store_proposal,
         "move_participant": _move, "apply_plan": _apply("plan"),
         "apply_repair": _apply("repair"), "apply_move": _apply("move"),
         "erase_participant": _erase, "purge_ended_cohorts": _purge}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_released_round_keeps_its_figures_whatever_changes_the_groups(engine, cohort, path):
    with db.transaction(engine) as session:
        before = figures(session, cohort["id"], cohort["moment"])
        live_before = live(session, cohort["id"])
    with db.transaction(engine) as session:
        PATHS[path](session, cohort)
    with db.transaction(engine) as session:
        assert live(session, cohort["id"]) != live_before  # the groups did change
        after = figures(session, cohort["id"], cohort["moment"])
        frozen = session.scalars(select(FrozenBuddyRound.task_id)).all()
    # Only the rounds released by the change are frozen (the purge's is years later).
    assert cohort["first"] in frozen
    assert (cohort["second"] in frozen) == (path == "purge_ended_cohorts")
    for key in before:
        assert after[key] == before[key], key
    assert before["counts"][0][3].pairs == 6 and before["counts"][0][3].met == 2


def test_rounds_released_later_count_the_new_groups(engine, cohort):
    with db.transaction(engine) as session:
        services.plan_groups(session, cohort["id"], seed=99, now=cohort["moment"])
        planned = live(session, cohort["id"])
    later = cohort["second_release"] + timedelta(hours=1)
    with db.transaction(engine) as session:
        pairs = frozen_rounds.round_pairs(session, cohort["id"], [cohort["first"],
                                                                 cohort["second"]])
        kept = sorted(p.members for p in pairs[cohort["first"]])
        assert kept == sorted(cohort["pairs"]) != planned
        assert sorted(p.members for p in pairs[cohort["second"]]) == planned
        second = figures(session, cohort["id"], later)
        # A change after the second round's release keeps that round's pairs too.
        services.plan_groups(session, cohort["id"], seed=3, now=later)
        assert live(session, cohort["id"]) != planned
        assert figures(session, cohort["id"], later) == second
        pairs = frozen_rounds.round_pairs(session, cohort["id"], [cohort["second"]])
        assert sorted(p.members for p in pairs[cohort["second"]]) == planned


def test_a_check_in_freezes_the_released_rounds(engine, cohort):
    with db.transaction(engine) as session:
        person = session.get(Participant, cohort["pairs"][0][1])
        services.record_check_in(session, person, cohort["first"], "met", cohort["moment"])
        assert session.scalars(select(FrozenBuddyRound.task_id)).all() == [cohort["first"]]
        before = figures(session, cohort["id"], cohort["moment"])
    with db.transaction(engine) as session:  # a change of the groups by hand: no freezing
        for members in cohort["pairs"][:2]:
            session.execute(db_delete_members(members))
    with db.transaction(engine) as session:
        assert figures(session, cohort["id"], cohort["moment"]) == before


def test_two_freezes_at_once_keep_one_copy(engine, cohort, monkeypatch):
    """Two check-ins just after a release may both find the round not frozen yet: the one
    whose round row goes in second adds nothing, and does not fail."""
    with db.transaction(engine) as session:
        assert frozen_rounds.freeze_released_rounds(session, cohort["id"], cohort["moment"]) == 1
        monkeypatch.setattr(frozen_rounds, "_frozen", lambda _session, _ids: set())
        assert frozen_rounds.freeze_released_rounds(session, cohort["id"], cohort["moment"]) == 0
        members = session.scalars(select(FrozenBuddyMember.participant_id)).all()
    assert sorted(members) == sorted(p for pair in cohort["pairs"] for p in pair)


def db_delete_members(members):
    from sqlalchemy import delete

    from cohort.models import GroupMember
    return delete(GroupMember).where(GroupMember.participant_id.in_(members))


def test_nothing_is_frozen_before_there_are_buddy_groups(engine, make_cohort):
    """A round released before the first groups were formed counts the first groups."""
    cohort_id = make_cohort(engine, people=demo_participants(3)).id  # one group of three
    with db.transaction(engine) as session:
        first = first_rounds(session, cohort_id)[0]
        moment = first.release_at + timedelta(hours=1)
        session.execute(db_delete_members(
            session.scalars(select(Participant.id).where(Participant.cohort_id == cohort_id))
            .all()))
        assert frozen_rounds.freeze_released_rounds(session, cohort_id, moment) == 0
        services.repair_groups(session, cohort_id, now=moment)
        assert not session.scalars(select(FrozenBuddyRound)).all()
        pairs = frozen_rounds.round_pairs(session, cohort_id, [first.id])[first.id]
        assert sum(len(p.members) for p in pairs) == 3


def test_removing_a_member_takes_them_out_and_keeps_the_other_pairs(engine, cohort):
    """Removal takes a person out of every figure (attendance and answers too); the other
    pairs of the released round stay as released although the groups are repaired."""
    leaving = cohort["pairs"][0][0]
    with db.transaction(engine) as session:
        participants.remove_participant(session, cohort["id"], leaving, None, cohort["moment"])
        services.repair_groups(session, cohort["id"], now=cohort["moment"])
        pairs = frozen_rounds.round_pairs(session, cohort["id"], [cohort["first"]])
    kept = sorted(p.members for p in pairs[cohort["first"]])
    assert kept == sorted([tuple(m for m in members if m != leaving)
                           for members in cohort["pairs"]])


def test_erasure_keeps_the_answer_without_the_note(engine, cohort):
    person_id = cohort["pairs"][0][0]
    with db.transaction(engine) as session:
        privacy.erase_participant(session, session.get(Participant, person_id), None,
                                  cohort["moment"])
    with db.transaction(engine) as session:
        kept = session.scalars(select(BuddyCheckIn).where(
            BuddyCheckIn.participant_id == person_id)).all()
        assert [(c.answer, c.note, c.shared) for c in kept] == [("met", "", False)]
        view = services.buddy_rounds(session, cohort["id"], cohort["moment"])[0]
        assert privacy.ERASED_NAME in {name for p in view.pairs for name in p.members}
        assert (view.notes, len(view.shared)) == (3, 3)  # theirs is gone, the others' kept


# --- every writer freezes -------------------------------------------------------------------

# The functions that write Group/GroupMember rows or delete participants (whose memberships
# cascade), each freezing the released rounds before it does; the public paths through them
# are PATHS (and the removal test).
WRITERS = {("services/grouping.py", "_store"), ("services/privacy.py", "erase_participant"),
           ("services/participants.py", "remove_participant")}


def _writes_groups(node: ast.AST) -> bool:
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        func = call.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        args = {a.id for a in call.args if isinstance(a, ast.Name)}
        if name in ("insert", "update", "delete") and args & {"Group", "GroupMember"}:
            return True
        if name == "delete" and "Participant" in args:
            return True
        if name in ("Group", "GroupMember"):
            return True
        if name == "delete" and any("participant" in a for a in args):  # session.delete
            return True
    return False


def test_every_writer_of_the_groups_freezes_the_released_rounds_first():
    """A new function that writes groups (or deletes participants) fails here until it
    freezes the released rounds first and is listed in WRITERS (and its path in PATHS)."""
    package = SERVICES.parent
    found = {}
    for path in sorted(package.rglob("*.py")):
        if {"models", "core"} & set(path.parts):  # the tables; pure code (its own Group)
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and _writes_groups(node):
                found[(str(path.relative_to(package)), node.name)] = node
    assert set(found) == WRITERS
    for (file, _function), node in found.items():
        source = ast.get_source_segment((package / file).read_text(), node)
        body = source.split('"""')[-1] if source.count('"""') >= 2 else source
        first_write = min(body.find(word) for word in ("delete(", "insert(", "update(",
                                                       "_judge(")
                          if word in body)
        assert 0 <= body.find("freeze_released_rounds(") < first_write, (file, node.name)
