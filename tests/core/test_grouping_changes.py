"""Who gets a new partner: the diff shown before announced groups change."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cohort.core.grouping import PartnerChange, changed_people, partner_changes
from tests.fixtures.properties import property_settings


def test_renumbering_and_reordering_is_no_change():
    before = [[["a", "b"], ["c", "d"]]]
    assert partner_changes(before, [[["d", "c"], ["b", "a"]]]) == []


def test_a_swap_changes_four_people_and_names_old_and_new_partners():
    changes = partner_changes([[["a", "b"], ["c", "d"]]], [[["a", "c"], ["b", "d"]]])
    assert changes == [PartnerChange("a", 1, ("b",), ("c",)),
                       PartnerChange("b", 1, ("a",), ("d",)),
                       PartnerChange("c", 1, ("d",), ("a",)),
                       PartnerChange("d", 1, ("c",), ("b",))]
    assert changes[0].joined == ("c",) and changes[0].left == ("b",)


def test_leaving_joining_and_later_rotations():
    before = [[["a", "b", "x"], ["c", "d"]], [["a", "c"], ["b", "d", "x"]]]
    after = [[["a", "b"], ["c", "d", "new"]], [["a", "c"], ["b", "d"], ["new", "e"]]]
    changes = {(c.person, c.rotation): c for c in partner_changes(before, after)}
    assert "x" not in changed_people(list(changes.values()))  # left: nobody to tell
    assert changes["a", 1].joined == () and changes["a", 1].left == ("x",)
    assert changes["new", 1].before == () and changes["new", 1].after == ("c", "d")
    assert changes["c", 1].joined == ("new",)
    assert ("a", 2) not in changes and changes["b", 2].after == ("d",)
    assert changes["e", 2].before == ()


groups = st.lists(st.sampled_from("abcdefgh"), unique=True).flatmap(
    lambda people: st.permutations(people).map(
        lambda order: [list(order[i:i + 2]) for i in range(0, len(order), 2)]))


@given(before=groups, after=groups)
@property_settings(100)
def test_a_person_is_listed_exactly_when_their_partners_differ(before, after):
    changes = partner_changes([before], [after])
    listed = {c.person for c in changes}
    old = {p: set(g) - {p} for g in before for p in g}
    new = {p: set(g) - {p} for g in after for p in g}
    assert listed == {p for p in new if new[p] != old.get(p, set())}
    for c in changes:
        assert set(c.before) == old.get(c.person, set()) and set(c.after) == new[c.person]
