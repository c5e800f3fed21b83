"""The publication rule: nothing about 1..k-1 answers can be worked out from what is shown.

The property test models answers as people: each copy of a survey is a set of answer ids,
split into groups by two attributes. The cells the rule shows become sets, and every
combination an insider can form (sums and differences of shown cells: all pairs, the total
minus the shown parts, and every ±1 combination when there are few enough cells) must single
out either nobody or at least k answers. The checker is itself tested on the two attacks.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cohort.core.publication import (
    Decision,
    decide,
    paired_change_shown,
    pool_released,
    published_dimension,
)
from tests.fixtures.properties import property_settings

DIMENSIONS = ("organisation", "role")
MAX_ENUMERATED = 10  # every ±1 combination up to this many shown cells (3**10 combinations)


# --- the checker ----------------------------------------------------------------------------

def shown_cells(copies: dict[str, list[int]], labels: dict[str, dict[int, str]],
                decision: Decision) -> list[frozenset[int]]:
    """The answer sets behind every shown figure: copies, the aggregate, breakdown groups."""
    cells = []
    if decision.aggregate:
        cells.append(frozenset(a for answers in copies.values() for a in answers))
    for copy, answers in copies.items():
        if copy in decision.copies:
            cells.append(frozenset(answers))
        for dimension in DIMENSIONS:
            for group in {labels[dimension][a] for a in answers}:
                if decision.shows_group(copy, dimension, group):
                    cells.append(frozenset(a for a in answers
                                           if labels[dimension][a] == group))
    return [c for c in cells if c]


def singled_out(cells: list[frozenset[int]]) -> list[frozenset[int]]:
    """The sets of answers an insider can isolate: each combination's answers with a
    non-zero weight."""
    found = [c for c in cells]
    found += [a - b for a, b in itertools.permutations(cells, 2)]
    for total in cells:  # a cell minus the shown cells inside it
        inside = [c for c in cells if c < total]
        found.append(total - frozenset().union(*inside))
    if len(cells) <= MAX_ENUMERATED:
        for weights in itertools.product((-1, 0, 1), repeat=len(cells)):
            weight: Counter[int] = Counter()
            for w, cell in zip(weights, cells, strict=True):
                for answer in cell:
                    weight[answer] += w
            found.append(frozenset(a for a, w in weight.items() if w))
    return found


def leaks(cells: list[frozenset[int]], k: int) -> list[frozenset[int]]:
    return [s for s in singled_out(cells) if 0 < len(s) < k]


# --- the rule on the two attacks ------------------------------------------------------------

def test_attack_1_a_lone_answer_at_one_meeting_hides_the_figures_over_all_meetings():
    decision = decide({"kickoff": 6, "workshop-1": 1}, 5)
    assert decision.copies == {"kickoff"} and not decision.aggregate
    copies = {"kickoff": list(range(6)), "workshop-1": [6]}
    labels = {d: dict.fromkeys(range(7), "x") for d in DIMENSIONS}
    assert leaks(shown_cells(copies, labels, decision), 5) == []
    # The checker sees the attack when the aggregate is shown as it was before.
    naive = Decision(True, frozenset({"kickoff"}))
    assert frozenset({6}) in leaks(shown_cells(copies, labels, naive), 5)


def test_the_figures_over_all_meetings_show_when_the_hidden_meetings_hold_k_answers():
    assert decide({"a": 6, "b": 3, "c": 2}, 5).aggregate
    assert not decide({"a": 6, "b": 3, "c": 1}, 5).aggregate
    assert decide({"a": 6, "b": 0, "c": 9}, 5).aggregate  # empty copies hide nothing


def test_attack_6_only_one_attribute_is_shown_and_a_lone_hidden_group_takes_another_along():
    # Six answers: 4 nurses and 2 specialists by role; Vejle 5 and Lier 1 by organisation.
    decision = decide({"post": 6}, 5, [("role", {"post": {"nurse": 4, "specialist": 2}}),
                                       ("organisation", {"post": {"Vejle": 5, "Lier": 1}})])
    assert decision.dimension == "role" and decision.groups == {"post": frozenset()}
    decision = decide({"post": 11}, 5, [("organisation", {"post": {"A": 6, "B": 4, "C": 1}})])
    assert decision.groups == {"post": frozenset({"A"})}  # 1 alone is too few: B goes too
    copies = {"post": list(range(6))}
    labels = {"organisation": {a: "Vejle" if a < 5 else "Lier" for a in range(6)},
              "role": {a: "nurse" if a < 4 else "specialist" for a in range(6)}}
    both = Decision(True, frozenset({"post"}), "role", {"post": frozenset({"nurse"})})
    assert leaks(shown_cells(copies, labels, both), 5)  # the checker sees a leak here


def test_the_shown_attribute_is_the_templates_else_organisation():
    assert published_dimension("role", DIMENSIONS) == "role"
    assert published_dimension("none", DIMENSIONS) == "organisation"
    assert published_dimension("none", ()) is None


def test_groups_must_add_up_to_their_copy():
    with pytest.raises(ValueError, match="add up"):
        decide({"a": 6}, 5, [("role", {"a": {"x": 5}})])


# --- the property ---------------------------------------------------------------------------

@st.composite
def surveys(draw):
    k = draw(st.integers(3, 6))
    sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=4))
    copies: dict[str, list[int]] = {}
    labels: dict[str, dict[int, str]] = {d: {} for d in DIMENSIONS}
    next_id = 0
    for index, size in enumerate(sizes):
        answers = list(range(next_id, next_id + size))
        next_id += size
        copies[f"copy-{index}"] = answers
        for dimension in DIMENSIONS:
            for answer in answers:
                labels[dimension][answer] = draw(st.sampled_from("ABC"))
    order = draw(st.permutations(DIMENSIONS))
    return k, copies, labels, order


@property_settings(200)
@given(surveys())
@example((5, {"kickoff": [0, 1, 2, 3, 4, 5], "workshop-1": [6]},
          {"organisation": dict.fromkeys(range(7), "A"), "role": dict.fromkeys(range(7), "A")},
          ("organisation", "role")))
def test_no_combination_of_shown_figures_singles_out_fewer_than_k_answers(survey):
    k, copies, labels, order = survey
    breakdowns = [(d, {c: Counter(labels[d][a] for a in answers)
                       for c, answers in copies.items()}) for d in order]
    decision = decide({c: len(a) for c, a in copies.items()}, k, breakdowns)
    cells = shown_cells(copies, labels, decision)
    assert leaks(cells, k) == []
    # and it hides no more than it must: every copy with k answers is shown
    assert decision.copies == {c for c, a in copies.items() if len(a) >= k}


# --- over time (rule 5) ---------------------------------------------------------------------

def cells_over_time(copies: dict[str, list[int]], labels, k: int, order,
                    rule5: bool = True) -> list[frozenset[int]]:
    """Every cell shown at any moment while the copies run one after the other, each answer
    stored as it comes (as an identified survey's are): after every answer and every close.
    Without `rule5`, what deciding each moment on its own (rules 1-3) would show."""
    keys = list(copies)
    cells: set[frozenset[int]] = set()
    for current, key in enumerate(keys):
        for count in range(len(copies[key]) + 1):
            for closing in ((False, True) if count == len(copies[key]) else (False,)):
                state = {c: (copies[c] if i < current else []) for i, c in enumerate(keys)}
                state[key] = copies[key][:count]
                is_open = {key} if not closing and rule5 else set()
                settled = (current == len(keys) - 1 and closing) or not rule5
                breakdowns = [(d, {c: Counter(labels[d][a] for a in answers)
                                   for c, answers in state.items()}) for d in order]
                decision = decide({c: len(a) for c, a in state.items()}, k, breakdowns,
                                  open_copies=is_open, settled=settled)
                cells |= set(shown_cells(state, labels, decision))
    return list(cells)


def test_attack_5_a_copy_seen_with_six_and_then_seven_answers_is_never_shown_open():
    copies = {"kickoff": list(range(7))}
    labels = {d: dict.fromkeys(range(7), "A") for d in DIMENSIONS}
    assert leaks(cells_over_time(copies, labels, 5, DIMENSIONS), 5) == []
    assert frozenset({6}) in leaks(cells_over_time(copies, labels, 5, DIMENSIONS, False), 5)
    assert not decide({"kickoff": 7}, 5, open_copies={"kickoff"}).copies


def test_the_aggregate_counts_hidden_copies_in_only_once_every_copy_has_closed():
    # Hidden copies of 1 and 4 (5 together) and a later one of 2: shown as soon as the two
    # held 5, the aggregate would later grow by the later copy's 2 answers.
    assert not decide({"a": 6, "b": 1, "c": 4, "d": 0}, 5, settled=False).aggregate
    assert decide({"a": 6, "b": 1, "c": 4, "d": 2}, 5, settled=True).aggregate
    assert decide({"a": 6, "b": 7, "d": 0}, 5, settled=False).aggregate  # nothing hidden
    copies = {"a": list(range(6)), "b": [6], "c": [7, 8, 9, 10], "d": [11, 12]}
    labels = {d: dict.fromkeys(range(13), "A") for d in DIMENSIONS}
    assert leaks(cells_over_time(copies, labels, 5, DIMENSIONS), 5) == []
    assert frozenset({11, 12}) in leaks(cells_over_time(copies, labels, 5, DIMENSIONS,
                                                        False), 5)


@property_settings(100)
@given(surveys())
def test_nothing_shown_at_any_moment_singles_out_fewer_than_k_answers(survey):
    k, copies, labels, order = survey
    assert leaks(cells_over_time(copies, labels, k, order), k) == []


def test_the_pool_stores_from_k_waiting_or_everything_once_closed():
    assert not pool_released(4, 5, closed=False) and pool_released(5, 5, closed=False)
    assert pool_released(1, 5, closed=True) and not pool_released(0, 5, closed=True)


# --- paired changes -------------------------------------------------------------------------

def paired_leaks(before: set[int], after: set[int], k: int) -> list[frozenset]:
    """Every ±1 combination of the mean before, the mean after and the paired change (each
    as a sum, when shown), as the set of (person, 'before'|'after') answers it weighs."""
    paired = before & after
    cells = []
    if len(before) >= k:
        cells.append({(p, "before"): 1 for p in before})
    if len(after) >= k:
        cells.append({(p, "after"): 1 for p in after})
    if paired_change_shown(len(before), len(after), len(paired), k):
        cells.append({**{(p, "after"): 1 for p in paired}, **{(p, "before"): -1 for p in paired}})
    found = []
    for weights in itertools.product((-1, 0, 1), repeat=len(cells)):
        total: Counter = Counter()
        for w, cell in zip(weights, cells, strict=True):
            for answer, sign in cell.items():
                total[answer] += w * sign
        support = frozenset(a for a, w in total.items() if w)
        if 0 < len(support) < k:
            found.append(support)
    return found


def test_a_paired_change_hides_while_few_answers_are_unpaired():
    # Six before, six after, five of them the same people: one before-only, one after-only.
    assert not paired_change_shown(6, 6, 5, 5)
    assert paired_leaks(set(range(6)), set(range(1, 7)), 5) == []
    assert paired_change_shown(6, 6, 6, 5) and paired_change_shown(10, 9, 6, 5)
    # The checker sees the leak when the change is shown regardless: Q − D − P.
    assert not paired_change_shown(6, 7, 6, 5)  # one person answered only after
    with pytest.raises(ValueError):
        paired_change_shown(3, 6, 4, 5)


@property_settings(200)
@given(st.integers(3, 6), st.sets(st.integers(0, 14)), st.sets(st.integers(0, 14)))
def test_no_combination_of_pre_post_figures_singles_out_fewer_than_k_answers(k, before,
                                                                             after):
    assert paired_leaks(before, after, k) == []
