"""Minimum group size: generalisation when storing, primary and secondary suppression."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort.core.anonymity import (
    OTHER,
    checked_min_group_size,
    generalise,
    suppressed_groups,
)
from tests.fixtures.properties import property_settings


def test_minimum_group_size_is_never_below_three():
    assert checked_min_group_size(None) == 5
    assert checked_min_group_size(3) == 3
    with pytest.raises(ValueError, match="below 3"):
        checked_min_group_size(2)


def test_rare_values_become_other_and_other_is_made_large_enough():
    people = ["Vejle"] * 6 + ["Kolding"] * 5 + ["Odense"] * 2 + ["Aabenraa"] * 1
    # Odense and Aabenraa (3 people) are too few on their own: Kolding (smallest kept) joins.
    assert generalise(people, 5) == {"Vejle": "Vejle", "Kolding": OTHER, "Odense": OTHER,
                                     "Aabenraa": OTHER}


def test_too_few_people_keep_no_attribute():
    assert set(generalise(["A", "A", "B"], 5).values()) == {OTHER}


@property_settings(100)
@given(st.lists(st.sampled_from("ABCDEFG"), max_size=60), st.integers(3, 8))
def test_every_stored_value_stands_for_at_least_k_people(people, k):
    mapping = generalise(people, k)
    stored = [mapping[p] for p in people]
    for value in set(stored):
        assert stored.count(value) >= k or len(people) < k


def test_one_small_group_hides_another_so_subtraction_reveals_nothing():
    sizes = {"Vejle": 10, "Kolding": 7, "Odense": 3}
    assert suppressed_groups(sizes, 5) == {"Odense", "Kolding"}


def test_hidden_groups_must_together_reach_k():
    assert suppressed_groups({"A": 10, "B": 2, "C": 1}, 5) == {"A", "B", "C"}
    assert suppressed_groups({"A": 10, "B": 6, "C": 3, "D": 2}, 5) == {"C", "D"}


def test_no_suppression_when_every_group_is_large_and_empty_groups_reveal_nothing():
    assert suppressed_groups({"A": 5, "B": 9}, 5) == set()
    assert suppressed_groups({"A": 5, "B": 9, "C": 0}, 5) == set()


@property_settings(100)
@given(st.dictionaries(st.sampled_from("ABCDEFGH"), st.integers(0, 12), min_size=1),
       st.integers(3, 7))
def test_no_small_group_can_be_computed_from_shown_figures(sizes, k):
    """Every combination of hidden groups that can be derived (total minus shown) is >= k."""
    hidden = suppressed_groups(sizes, k)
    shown = {g: n for g, n in sizes.items() if g not in hidden}
    assert all(n == 0 or n >= k for n in shown.values())
    total = sum(sizes.values())
    remainder = total - sum(shown.values())
    if total >= k:  # below k the total is not shown either
        assert remainder == 0 or remainder >= k
