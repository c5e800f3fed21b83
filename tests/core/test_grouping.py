"""The grouping core: sizes, roles, hard rules, explanations, determinism, repair."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort.core.grouping import (
    GroupingError,
    GroupingSpec,
    Person,
    Rules,
    allowed_counts,
    evaluate,
    group_sizes,
    person_roles,
    plan,
    repair,
)
from tests.fixtures.properties import property_settings

BUDDIES = GroupingSpec("buddy", (2, 3), 1, mix=("organisation",))
TEAMS = GroupingSpec("team", (4, 7), 1, mix=("organisation",), balance=("role",),
                     roles=("ledelseskraft|leder", "specialist", "facilitator", "interesse"))
PROPERTY = property_settings(30)


def people(n: int, organisations: int = 6, seed: int = 1, roles=("Leder",)) -> list[Person]:
    rng = random.Random(seed)
    return [Person(f"p{i:03d}@x.example", f"Person {i}", f"Org {rng.randrange(organisations)}",
                   rng.choice(roles), "da") for i in range(n)]


# --- sizes and roles ----------------------------------------------------------------------

@pytest.mark.parametrize(("n", "sizes"), [(2, [2]), (3, [3]), (10, [2] * 5), (11, [3] + [2] * 4)])
def test_buddies_are_pairs_and_one_trio_when_odd(n, sizes):
    assert group_sizes(n, BUDDIES) == sizes


def test_exact_pair_size_still_makes_one_trio_for_an_odd_count():
    assert group_sizes(7, GroupingSpec("buddy", (2, 2))) == [3, 2, 2]


@pytest.mark.parametrize(("n", "sizes"), [(4, [4]), (8, [4, 4]), (32, [6, 6, 5, 5, 5, 5]),
                                          (13, [7, 6])])
def test_teams_are_as_even_as_possible_within_the_range(n, sizes):
    assert group_sizes(n, TEAMS) == sizes
    assert all(4 <= s <= 7 for s in sizes)


@pytest.mark.parametrize("n", [1, 3])
def test_too_few_people_is_a_clear_error(n):
    with pytest.raises(GroupingError, match="cannot form groups of 4-7"):
        group_sizes(n, TEAMS)
    assert not allowed_counts(n, TEAMS)


def test_some_counts_cannot_be_split_into_the_range():
    with pytest.raises(GroupingError):
        group_sizes(8, GroupingSpec("team", (5, 7)))


def test_roles_match_case_insensitively_inside_the_role_text_with_alternatives():
    spec = GroupingSpec("team", (4, 6), roles=("ledelseskraft|leder", "specialist", "ansatt"))
    assert person_roles(Person("a", role="Afdelingsleder, akutteam"), spec) == ("ledelseskraft",)
    assert person_roles(Person("b", role="Leder og SPECIALIST"), spec) == ("ledelseskraft",
                                                                            "specialist")
    assert person_roles(Person("c", role="Fast ansatt sykepleier"), spec) == ("ansatt",)
    assert person_roles(Person("d", role="Sygeplejerske"), spec) == ()


def test_programme_groupings_become_specs(library):
    grouping = library.programmes["ledelse-i-digitalisering"].groupings[0]
    spec = GroupingSpec.from_programme(grouping)
    assert spec.kind == "team" and spec.size == (4, 7)
    assert spec.role_names[:2] == ("ledelseskraft", "specialist")
    assert person_roles(Person("x", role="Leder, hjemmeplejen"), spec) == ("ledelseskraft",)


# --- properties ---------------------------------------------------------------------------

@st.composite
def scenarios(draw):
    """People, a spec, hard rules and a seed. The rules are read off a random grouping with
    the planned sizes (locks inside its groups, forbidden pairs across them), so they can
    always be kept."""
    kind = draw(st.sampled_from(["buddy", "team"]))
    size = (2, 3) if kind == "buddy" else draw(st.sampled_from([(3, 5), (4, 6), (4, 7)]))
    n = draw(st.integers(min_value=2 * size[0], max_value=40))
    organisations = draw(st.integers(min_value=1, max_value=8))
    roles = ("Leder", "Specialist", "Facilitator", "Sygeplejerske")
    group = people(n, organisations, seed=draw(st.integers(0, 10_000)), roles=roles)
    spec = GroupingSpec(kind, size, draw(st.integers(1, 3)), mix=("organisation",),
                        balance=("role",) if kind == "team" else (),
                        roles=("leder", "specialist", "facilitator") if kind == "team" else ())
    order = draw(st.permutations([p.id for p in group]))
    feasible, start = [], 0
    for length in group_sizes(n, spec):
        feasible.append(order[start:start + length])
        start += length
    locks = draw(st.lists(st.sampled_from(range(len(feasible))), max_size=2, unique=True))
    together = tuple((feasible[g][0], feasible[g][1]) for g in locks)
    apart = tuple((feasible[a][-1], feasible[b][-1]) for a, b in draw(st.lists(
        st.tuples(st.sampled_from(range(len(feasible))), st.sampled_from(range(len(feasible))))
        .filter(lambda ab: ab[0] != ab[1]), max_size=3)))
    return group, spec, Rules(together=together, apart=apart), draw(st.integers(0, 2**16))


@PROPERTY
@given(scenarios())
def test_every_rotation_has_valid_sizes_everyone_once_and_hard_rules_kept(scenario):
    group, spec, rules, seed = scenario
    result = plan(group, spec, rules=rules, seed=seed)
    assert len(result.rotations) == spec.rotations
    everyone = sorted(p.id for p in group)
    expected_sizes = sorted(group_sizes(len(group), spec))
    for rotation in result.rotations:
        members = [m for g in rotation.groups for m in g.members]
        assert sorted(members) == everyone
        assert sorted(len(g.members) for g in rotation.groups) == expected_sizes
        home = {m: i for i, g in enumerate(rotation.groups) for m in g.members}
        for a, b in rules.together:
            assert home[a] == home[b]
        for a, b in rules.apart:
            assert home[a] != home[b]
        assert all(g.explanation for g in rotation.groups)
    assert result.violations == ()
    assert 0 <= result.score <= 100


@PROPERTY
@given(scenarios())
def test_the_same_seed_gives_the_same_groups_whatever_the_input_order(scenario):
    group, spec, rules, seed = scenario
    first = plan(group, spec, rules=rules, seed=seed, language="da")
    shuffled = list(group)
    random.Random(seed).shuffle(shuffled)
    again = plan(shuffled, spec, rules=rules, seed=seed, language="da")
    assert again == first


def test_different_seeds_give_different_groups():
    group = people(30)
    assert plan(group, BUDDIES, seed=1).members() != plan(group, BUDDIES, seed=2).members()


def test_rotations_avoid_repeat_partners_when_possible():
    group = people(12, organisations=12)
    result = plan(group, GroupingSpec("buddy", (2, 3), 5), seed=3)
    seen = set()
    for rotation in result.rotations:
        pairs = {frozenset(g.members) for g in rotation.groups}
        assert not pairs & seen
        seen |= pairs
    assert result.unmet == ()


def test_history_counts_as_having_met():
    group = people(4, organisations=4)
    ids = [p.id for p in group]
    result = plan(group, GroupingSpec("buddy", (2, 3)), history=[ids[:2], ids[2:]], seed=0)
    assert {frozenset(g.members) for g in result.rotations[0].groups}.isdisjoint(
        {frozenset(ids[:2]), frozenset(ids[2:])})


# --- explanations, unmet goals and violations ----------------------------------------------

FOUR = [Person("a@x", "Anne", "Vejle", "Leder, hjemmeplejen"),
        Person("b@x", "Bo", "Vejle", "Specialist"),
        Person("c@x", "Carl", "Kolding", "Sygeplejerske"),
        Person("d@x", "Dorte", "Odense", "Facilitator")]


@pytest.mark.parametrize(("language", "first", "second"), [
    ("da", "2 fra Vejle; Anne og Bo har været sammen før; har ledelseskraft og specialist; "
           "mangler facilitator og interesse",
     "forskellige organisationer; første gang sammen; har facilitator; mangler ledelseskraft, "
     "specialist og interesse; holdt sammen efter ønske"),
    ("nb", "2 fra Vejle; Anne og Bo har vært sammen før; har ledelseskraft og specialist; "
           "mangler facilitator og interesse",
     "ulike organisasjoner; første gang sammen; har facilitator; mangler ledelseskraft, "
     "specialist og interesse; holdt sammen etter ønske"),
    ("en", "2 from Vejle; Anne and Bo have been together before; has ledelseskraft and "
           "specialist; lacks facilitator and interesse",
     "different organisations; first time together; has facilitator; lacks ledelseskraft, "
     "specialist and interesse; kept together as requested"),
])
def test_explanations_in_the_cohort_language(language, first, second):
    spec = GroupingSpec("team", (2, 2), mix=("organisation",), roles=TEAMS.roles)
    judged = evaluate(FOUR, spec, [[["a@x", "b@x"], ["c@x", "d@x"]]],
                      history=[["a@x", "b@x"]], rules=Rules(together=(("c@x", "d@x"),)),
                      language=language)
    assert [g.explanation for g in judged.rotations[0].groups] == [first, second]
    assert judged.violations == ()


def test_a_dominant_organisation_is_reported_as_unavoidable_not_as_a_failure():
    group = [Person(f"v{i}@x", f"V{i}", "Vejle Kommune") for i in range(8)]
    group += [Person(f"k{i}@x", f"K{i}", "Kolding Kommune") for i in range(2)]
    result = plan(group, BUDDIES, seed=0, language="da")
    assert result.violations == ()
    assert result.unmet == ("3 af 5 grupper har flere med samme organisation; uundgåeligt: "
                            "Vejle Kommune har 8 af 10 deltagere og der er 5 grupper",)
    assert result.score < 100


def test_roles_nobody_has_are_reported():
    group = people(8, roles=("Leder", "Sygeplejerske"))
    result = plan(group, GroupingSpec("team", (4, 4), roles=("leder", "facilitator")),
                  language="en")
    assert "2 of 2 groups lack facilitator (0 participants have that role)" in result.unmet


def test_evaluate_reports_every_kind_of_broken_hard_rule():
    group = people(7)
    ids = [p.id for p in group]
    rules = Rules(together=((ids[0], ids[4]),), apart=((ids[1], ids[2]),))
    groups = [[ids[0], ids[1], ids[2], ids[3]], [ids[3], ids[4]], [ids[5]],
              ["stranger@x.example"]]
    judged = evaluate(group, BUDDIES, [groups], rules=rules)
    kinds = sorted(v.kind for v in judged.violations)
    assert kinds == ["apart", "count", "duplicate", "size", "size", "size", "together",
                     "ungrouped", "unknown"]
    assert "must not be in the same group (group 1)" in " ".join(
        v.message for v in judged.violations)


def test_a_lock_that_cannot_fit_the_sizes_is_reported():
    group = people(6)
    ids = [p.id for p in group]
    rules = Rules(together=((ids[0], ids[1]), (ids[1], ids[2])))
    result = plan(group, BUDDIES, rules=rules)
    assert {v.kind for v in result.violations} == {"together"}


def test_json_shape_is_the_contract():
    data = plan(people(6), BUDDIES, language="da").as_dict()
    assert set(data) >= {"rotations", "score", "violations"}
    rotation = data["rotations"][0]
    assert rotation["rotation"] == 1
    assert set(rotation["groups"][0]) == {"members", "explanation"}


# --- repair -------------------------------------------------------------------------------

def _pairs_of(groups):
    return {frozenset(g) for g in groups}


def test_repair_after_one_leaver_makes_one_trio_and_touches_nothing_else():
    group = people(30, organisations=15)
    spec = GroupingSpec("buddy", (2, 3), 1, mix=("organisation",))
    before = plan(group, spec, seed=4).members()
    leaver = before[0][0][0]
    buddy = before[0][0][1]
    result = repair([p for p in group if p.id != leaver], spec, before)
    after = result.grouping.members()[0]
    assert result.grouping.violations == ()
    assert result.changed_groups == 1
    assert len(_pairs_of(before[0]) - _pairs_of(after)) == 2  # the leaver's pair and one other
    trio = next(g for g in after if buddy in g)
    assert len(trio) == 3
    assert sorted(result.new_partner) == sorted(trio)


def test_repair_after_a_joiner_uses_the_free_place_then_one_pair():
    group = people(31, organisations=15)
    spec = GroupingSpec("buddy", (2, 3), 1, mix=("organisation",))
    before = plan(group, spec, seed=4).members()
    joiner = Person("new@x.example", "New", "Elsewhere")
    result = repair([*group, joiner], spec, before)
    assert result.grouping.violations == ()
    assert result.changed_groups == 2  # the old trio gives one to pair with the joiner
    assert len(result.new_partner) == 2
    assert joiner.id in result.new_partner


def test_repair_of_teams_after_a_leaver_changes_no_group():
    group = people(32, roles=("Leder", "Specialist", "Facilitator"))
    before = plan(group, TEAMS, seed=5).members()
    leaver = before[0][0][0]
    result = repair([p for p in group if p.id != leaver], TEAMS, before)
    assert result.changed_groups == 0 and result.new_partner == ()
    assert result.grouping.members()[0] == [[m for m in g if m != leaver] for g in before[0]]


def test_repair_fixes_a_new_forbidden_pair_with_one_swap():
    group = people(20, organisations=20)
    before = plan(group, BUDDIES, seed=6).members()
    a, b = before[0][0]
    result = repair(group, BUDDIES, before, rules=Rules(apart=((a, b),)))
    assert result.grouping.violations == ()
    assert result.changed_groups == 2
    assert len(result.new_partner) == 4


def test_repair_brings_a_locked_pair_together():
    group = people(20, organisations=20)
    before = plan(group, BUDDIES, seed=6).members()
    a, c = before[0][0][0], before[0][1][0]
    result = repair(group, BUDDIES, before, rules=Rules(together=((a, c),)))
    assert result.grouping.violations == ()
    assert sorted([a, c]) in result.grouping.members()[0]
    assert result.changed_groups == 2


@PROPERTY
@given(scenarios(), st.data())
def test_repair_keeps_the_rules_and_changes_only_what_must_change(scenario, data):
    group, spec, rules, seed = scenario
    before = plan(group, spec, rules=rules, seed=seed).members()
    leavers = set(data.draw(st.lists(st.sampled_from([p.id for p in group]), max_size=3)))
    joiners = [Person(f"new{i}@x.example", f"New {i}", f"Org {i}")
               for i in range(data.draw(st.integers(0, 3)))]
    now = [p for p in group if p.id not in leavers] + joiners
    if not allowed_counts(len(now), spec):
        return
    result = repair(now, spec, before, rules=rules, seed=seed)
    # the people can be grouped (allowed_counts) and locks are pairs, so every group repair
    # returns must be within the size range and their number allowed
    low, high = spec.size
    for rotation in result.grouping.members():
        assert all(low <= len(g) <= high for g in rotation), [len(g) for g in rotation]
        assert len(rotation) in allowed_counts(len(now), spec)
    # leavers can make the rules impossible (two kept apart among three buddies); wherever
    # planning afresh keeps every rule, repair must too
    if plan(now, spec, rules=rules, seed=seed).violations == ():
        assert result.grouping.violations == ()
    changes = len(leavers) + len(joiners)
    for old, new in zip(before, result.grouping.members(), strict=True):
        kept = {frozenset(m for m in g if m not in leavers) for g in old}
        changed = [g for g in new if frozenset(g) not in kept]
        # a leaver may dissolve a group of the smallest size, whose others then go to other
        # groups; a joiner may need a new group filled from others: at most `low` per change
        assert len(changed) <= changes * max(2, spec.size[0])
    if changes == 0:
        assert result.changed_groups == 0
        assert result.grouping.members() == [[sorted(g) for g in r] for r in before]


def test_repair_makes_room_for_a_locked_pair_when_no_group_has_two_free_places():
    # Found by the property above: 34 in teams of 4-6 are planned as 5,5,5,5,5,5,4 with the
    # locked pair in the team of 4. When one of its others leaves, that team is dissolved and
    # the locked pair and the last one go back to the pool, but every other team has 5, so no
    # team has room for the pair. Repair used to put it in a team anyway (7 members).
    group = people(34, organisations=7, seed=34,
                   roles=("Leder", "Specialist", "Facilitator", "Sygeplejerske"))
    spec = GroupingSpec("team", (4, 6), 1, mix=("organisation",), balance=("role",),
                        roles=("leder", "specialist", "facilitator"))
    rules = Rules(together=(("p005@x.example", "p010@x.example"),))
    before = plan(group, spec, rules=rules, seed=34).members()
    assert sorted(len(g) for g in before[0]) == [4, 5, 5, 5, 5, 5, 5]
    assert ["p005@x.example", "p006@x.example", "p010@x.example", "p023@x.example"] in before[0]
    now = [p for p in group if p.id != "p023@x.example"]
    result = repair(now, spec, before, rules=rules, seed=34)
    after = result.grouping.members()[0]
    assert sorted(len(g) for g in after) == [5, 5, 5, 6, 6, 6]
    assert result.grouping.violations == ()
    assert any({"p005@x.example", "p010@x.example"} <= set(g) for g in after)
    assert sorted(p.id for p in now) == sorted(m for g in after for m in g)
    kept = {frozenset(m for m in g if m != "p023@x.example") for g in before[0]}
    assert sum(1 for g in after if frozenset(g) not in kept) == result.changed_groups <= 3


def test_repair_of_a_large_cohort_with_sampled_partners():
    group = people(400, organisations=40)
    spec = GroupingSpec("buddy", (2, 3), 2, mix=("organisation",))
    before = plan(group, spec, seed=8).members()
    leavers = {g[0] for g in before[0][:10]}
    joiners = [Person(f"new{i}@x.example", f"New {i}", f"Org {i}") for i in range(5)]
    result = repair([p for p in group if p.id not in leavers] + joiners, spec, before, seed=8)
    assert result.grouping.violations == ()
    for old, new in zip(before, result.grouping.members(), strict=True):
        kept = {frozenset(m for m in g if m not in leavers) for g in old}
        assert sum(1 for g in new if frozenset(g) not in kept) <= 2 * (len(leavers) + 5)
