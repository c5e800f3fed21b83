"""Whom a quote's attribution fits, and how a too narrow one is published."""

from __future__ import annotations

from cohort.core.attribution import GENERIC, Person, choices, fitting, publishable, text_of


def person(organisation: str, *groups: tuple[str, int]) -> Person:
    return Person(organisation, frozenset(groups))


# Vejle 6 (4 in "Gruppe 1" and 2 in "Gruppe 2" of rotation 1), Lier 3 (all in "Gruppe 2");
# "Buddy 1" pairs one from Vejle with one from Lier.
PEOPLE = ([person("Vejle", ("Gruppe 1", 1))] * 4
          + [person("Vejle", ("Gruppe 2", 1), ("Buddy 1", 1))]
          + [person("Vejle", ("Gruppe 2", 1))]
          + [person("Lier", ("Gruppe 2", 1), ("Buddy 1", 1))]
          + [person("Lier", ("Gruppe 2", 1))] * 2)


def test_an_attribution_fits_the_organisations_people_in_the_group():
    assert fitting(PEOPLE, "Vejle", "") == 6
    assert fitting(PEOPLE, "Vejle", "Gruppe 1") == 4
    assert fitting(PEOPLE, "Vejle", "Buddy 1") == 1  # the buddy pair names one person
    assert fitting(PEOPLE, "", "Gruppe 2") == 5
    assert fitting(PEOPLE, "", "") == 9
    assert fitting(PEOPLE, "Narnia", "") == 0 and fitting(PEOPLE, "Vejle", "Gruppe 9") == 0


def test_a_rotating_group_fits_the_fewest_of_any_one_rotation():
    """"Gruppe 1" in rotation 1 and 2 are different people: together 6 of Vejle, but an
    insider who can tell the rotation from the quote sees 3."""
    people = ([person("Vejle", ("Gruppe 1", 1))] * 3 + [person("Vejle", ("Gruppe 1", 2))] * 3
              + [person("Vejle", ("Gruppe 2", 1), ("Gruppe 2", 2))] * 5)
    assert fitting(people, "Vejle", "Gruppe 1") == 3
    assert fitting(people, "Vejle", "Gruppe 2") == 5


def test_a_too_narrow_attribution_loses_its_group_then_its_organisation():
    assert publishable(PEOPLE, "Vejle", "Gruppe 1", 4) == ("Vejle", "Gruppe 1")
    assert publishable(PEOPLE, "Vejle", "Gruppe 1", 5) == ("Vejle", "")
    assert publishable(PEOPLE, "Vejle", "Buddy 1", 5) == ("Vejle", "")
    assert publishable(PEOPLE, "Lier", "Gruppe 2", 5) == GENERIC
    assert publishable(PEOPLE, "Vejle", "", 7) == GENERIC
    assert publishable(PEOPLE, "", "Gruppe 2", 5) == ("", "Gruppe 2")
    assert publishable(PEOPLE, "", "", 5) == GENERIC


def test_only_attributions_enough_people_fit_are_offered():
    assert choices(PEOPLE, 5) == [GENERIC, ("Vejle", ""), ("", "Gruppe 2")]
    assert choices(PEOPLE, 3) == [GENERIC, ("Lier", ""), ("Lier", "Gruppe 2"), ("Vejle", ""),
                                  ("Vejle", "Gruppe 1"), ("", "Gruppe 1"), ("", "Gruppe 2")]
    assert choices([], 5) == [GENERIC]


def test_groups_are_offered_in_number_order():
    people = [person("", ("Gruppe 10", 1))] * 3 + [person("", ("Gruppe 2", 1))] * 3
    assert choices(people, 3)[1:] == [("", "Gruppe 2"), ("", "Gruppe 10")]


def test_text_of_an_attribution():
    assert text_of("Vejle", "Gruppe 1") == "Vejle, Gruppe 1"
    assert text_of("Vejle", "") == "Vejle" and text_of(*GENERIC) == ""
