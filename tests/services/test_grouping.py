"""Groupings stored per rotation (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.demo import demo_participants
from cohort.models import Group, GroupingRule, GroupMember, Participant

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def csv(rows) -> str:
    lines = ["name;email;organisation;role;language"]
    lines += [f"{r.name};{r.email};{r.organisation};{r.role};{r.language}" for r in rows]
    return "\n".join(lines) + "\n"


def homes(view, rotation=0) -> dict[str, int]:
    return {m: number for number, group in zip(view.numbers[rotation],
                                               view.result.rotations[rotation].groups,
                                               strict=True) for m in group.members}


def test_groups_are_formed_when_a_cohort_is_created(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(32)).id
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        stored = session.scalar(select(func.count()).select_from(GroupMember))
    assert view.grouping_key == "buddies" and view.kind == "buddy"
    groups = view.result.rotations[0].groups
    assert len(groups) == 16 and all(len(g.members) == 2 for g in groups)
    assert stored == 32
    assert view.result.violations == ()
    assert all("første gang sammen" in g.explanation for g in groups)
    assert view.result.score == 100.0  # eight municipalities: no pair shares one


def test_too_few_participants_form_no_groups(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(1)).id
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        assert not view.planned
        assert view.as_dict()["score"] is None
        with pytest.raises(services.GroupingProblem, match="cannot form groups of 2-3"):
            services.plan_groups(session, cohort_id)


def test_every_grouping_of_the_programme_is_formed_in_its_language(engine, make_cohort):
    roles = ["Leder", "Ressursperson", "Ansatt i hjemmetjenesten"]
    rows = [ParticipantRow(f"Person {i}", f"p{i}@kommune{i % 4}.example", f"Kommune {i % 4}",
                           roles[i % 3], "nb") for i in range(18)]
    cohort_id = make_cohort(engine, people=rows, programme="digital-helsekompetanse").id
    with db.transaction(engine) as session:
        keys = [g.key for g in services.groupings(session, cohort_id)]
        teams = services.list_groups(session, cohort_id, "praksisgrupper")
        buddies = services.list_groups(session, cohort_id, "laerevenner")
    assert keys == ["laerevenner", "praksisgrupper"]
    assert len(buddies.result.rotations[0].groups) == 9
    assert sorted(len(g.members) for g in teams.result.rotations[0].groups) == [4, 4, 5, 5]
    assert all("har leder, ressursperson og ansatt" in g.explanation
               for g in teams.result.rotations[0].groups)
    assert "ulike organisasjoner" in buddies.result.rotations[0].groups[0].explanation


def test_import_forms_missing_groups_then_newcomers_wait_for_repair(engine, make_cohort):
    people = demo_participants(14)
    cohort_id = make_cohort(engine).id
    with db.transaction(engine) as session:
        services.import_participants(session, cohort_id, csv(people[:10]), now=NOW)
        first = services.list_groups(session, cohort_id)
        ids_before = set(session.scalars(select(Group.id)))
    assert len(first.result.rotations[0].groups) == 5
    with db.transaction(engine) as session:
        services.import_participants(session, cohort_id, csv(people[10:]), now=NOW)
        waiting = services.list_groups(session, cohort_id)
    assert sorted(v.kind for v in waiting.result.violations) == ["count"] + ["ungrouped"] * 4
    with db.transaction(engine) as session:
        repaired = services.repair_groups(session, cohort_id)
        ids_after = set(session.scalars(select(Group.id)))
    assert repaired.view.result.violations == ()
    assert repaired.changed_groups == 2  # the four newcomers make two new pairs
    assert sorted(repaired.new_partner) == sorted(p.email for p in people[10:])
    assert ids_before <= ids_after  # the five old pairs kept their rows


def test_a_leaver_is_repaired_by_changing_one_group(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        before = services.list_groups(session, cohort_id)
        leaver = before.result.rotations[0].groups[0].members[0]
        session.execute(delete(Participant).where(Participant.email == leaver))
    with db.transaction(engine) as session:
        broken = services.list_groups(session, cohort_id)
        assert sorted(v.kind for v in broken.result.violations) == ["count", "size"]
        repaired = services.repair_groups(session, cohort_id)
    assert repaired.view.result.violations == ()
    assert repaired.changed_groups == 1
    assert len(repaired.new_partner) == 3  # the orphan joins a pair: a trio of new partners
    sizes = sorted(len(g.members) for g in repaired.view.result.rotations[0].groups)
    assert sizes == [2, 2, 2, 2, 3]


def test_move_is_stored_and_its_broken_rules_are_shown(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(8)).id
    with db.transaction(engine) as session:
        before = services.list_groups(session, cohort_id)
        mover = before.result.rotations[0].groups[0].members[0]
        target = before.numbers[0][1]
        view = services.move_participant(session, cohort_id, mover, target)
    assert homes(view)[mover] == target
    assert [v.kind for v in view.result.violations] == ["size"]  # the one left alone
    with db.transaction(engine) as session:
        again = services.list_groups(session, cohort_id)
        view = services.move_participant(session, cohort_id, mover, before.numbers[0][0])
    assert homes(again)[mover] == target  # stored, not only returned
    assert view.result.violations == ()
    assert homes(view) == homes(before)


def test_move_into_a_new_group_and_bad_targets(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(7)).id
    with db.transaction(engine) as session:
        before = services.list_groups(session, cohort_id)
        trio = next(g for g in before.result.rotations[0].groups if len(g.members) == 3)
        view = services.move_participant(session, cohort_id, trio.members[0], None)
        assert homes(view)[trio.members[0]] == 4
        with pytest.raises(services.NotFound, match="no group 9"):
            services.move_participant(session, cohort_id, trio.members[0], 9)
        with pytest.raises(services.NotFound, match="no participant nobody@x.example"):
            services.move_participant(session, cohort_id, "nobody@x.example", 1)


def test_forbid_shows_the_violation_and_repair_fixes_it(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        pair = services.list_groups(session, cohort_id).result.rotations[0].groups[0].members
        views = services.forbid_pair(session, cohort_id, pair[0], pair[1].upper())
    assert [v.kind for v in views[0].result.violations] == ["apart"]
    with db.transaction(engine) as session:
        repaired = services.repair_groups(session, cohort_id)
        assert services.list_rules(session, cohort_id) == [
            {"kind": "apart", "grouping": None, "members": sorted(pair)}]
    assert repaired.view.result.violations == ()
    assert repaired.changed_groups == 2


def test_lock_replaces_a_ban_and_planning_keeps_it(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(12)).id
    with db.transaction(engine) as session:
        groups = services.list_groups(session, cohort_id).result.rotations[0].groups
        a, b = groups[0].members[0], groups[1].members[0]
        services.forbid_pair(session, cohort_id, a, b, "buddies")
        views = services.lock_pair(session, cohort_id, a, b, "buddies")
        assert [v.kind for v in views[0].result.violations] == ["together"]
        assert [r["kind"] for r in services.list_rules(session, cohort_id)] == ["together"]
        planned = services.plan_groups(session, cohort_id, seed=3)
    assert planned.result.violations == ()
    assert homes(planned)[a] == homes(planned)[b]
    with db.transaction(engine) as session:
        views = services.remove_rule(session, cohort_id, a, b, "buddies")
        assert services.list_rules(session, cohort_id) == []
        with pytest.raises(services.GroupingProblem, match="two different participants"):
            services.lock_pair(session, cohort_id, a, a)
        with pytest.raises(services.NotFound, match="no grouping 'teams'"):
            services.lock_pair(session, cohort_id, a, b, "teams")


def test_rules_go_when_a_participant_goes(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(6)).id
    people = [p.email for p in demo_participants(6)]
    with db.transaction(engine) as session:
        services.lock_pair(session, cohort_id, people[0], people[1])
    with db.transaction(engine) as session:
        session.execute(delete(Participant).where(Participant.email == people[0]))
    with db.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(GroupingRule)) == 0


def test_plan_is_deterministic_for_a_seed(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(20)).id
    with db.transaction(engine) as session:
        first = services.plan_groups(session, cohort_id, seed=11).as_dict()
        second = services.plan_groups(session, cohort_id, seed=11).as_dict()
        other = services.plan_groups(session, cohort_id, seed=12).as_dict()
    assert first == second
    assert other != first


def test_participant_groups_name_the_partners(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(5)).id
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
        trio = next(g for g in view.result.rotations[0].groups if len(g.members) == 3)
        member = session.scalars(select(Participant).where(
            Participant.email == trio.members[0])).one()
        found = services.participant_groups(session, member.id)
    assert len(found) == 1
    group = found[0]
    assert (group.grouping_key, group.title, group.rotation) == ("buddies", "Buddyordning", 1)
    assert sorted(email for _, email in group.partners) == sorted(trio.members[1:])
    assert group.explanation == trio.explanation


def test_groups_of_many_participants_are_each_ones_groups(engine, make_cohort):
    """The outbox reads a batch's groups at once (participants_groups): the same as asking
    for each participant, across two cohorts, for people in no group too."""
    first = make_cohort(engine, people=demo_participants(9)).id
    second = make_cohort(engine, people=[ParticipantRow(
        "Solo Person", "solo@vejle.example", "Vejle", "leder", "da")]).id
    with db.transaction(engine) as session:
        people = list(session.scalars(select(Participant).where(
            Participant.cohort_id.in_((first, second))).order_by(Participant.id)))
        together = services.participants_groups(session, people)
        one_by_one = {p.id: services.participant_groups(session, p.id) for p in people}
    assert together == one_by_one
    assert sum(1 for groups in together.values() if groups) == 9
    assert len(together) == 10


def test_unknown_cohort_grouping_and_rotation_are_not_found(engine, make_cohort):
    cohort_id = make_cohort(engine, people=demo_participants(4)).id
    with db.transaction(engine) as session:
        with pytest.raises(services.NotFound, match="no cohort 999"):
            services.list_groups(session, 999)
        with pytest.raises(services.NotFound, match="no grouping 'x'"):
            services.list_groups(session, cohort_id, "x")
        with pytest.raises(services.NotFound, match="no rotation 2"):
            services.list_groups(session, cohort_id, rotation=2)
