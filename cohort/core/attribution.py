"""Whom a quote's attribution can point at, and the broadest attribution to publish.

A quote is attributed as "organisation, group", "organisation", or not at all ("a
participant"). Insiders know every participant's organisation and group, so an attribution
is an anonymity set: "Vejle Kommune, Buddyordning 2" names one person when the pair's other
member works elsewhere. An attribution may be published only if at least `k` (the minimum
group size) of the cohort's current participants fit it; a stored one that has become too
narrow (people left, groups changed) is coarsened when published: the group goes first, then
the organisation.

Groups are counted per rotation: a rotating grouping reuses its labels ("Buddyordning 2" in
rotation 1 and 2 are different people), and a quote's wording or date can tell an insider
which rotation it comes from, so a group attribution must fit `k` people in every rotation
that has a group of that label, not only all rotations together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GENERIC = ("", "")  # no organisation, no group: "a participant"


@dataclass(frozen=True)
class Person:
    """A current participant as attributions see them: organisation and groups, each group as
    (label, rotation), the label as quotes name it ("Buddyordning 2")."""

    organisation: str
    groups: frozenset[tuple[str, int]] = frozenset()


def fitting(people: Sequence[Person], organisation: str, group_label: str) -> int:
    """How many people the attribution fits: those of the organisation (everybody when it is
    empty), and with a group, in that group; for a group, the fewest in any one rotation."""
    matching = [p for p in people if not organisation or p.organisation == organisation]
    if not group_label:
        return len(matching)
    rotations = {r for p in people for label, r in p.groups if label == group_label}
    return min((sum(1 for p in matching if (group_label, r) in p.groups) for r in rotations),
               default=0)


def publishable(people: Sequence[Person], organisation: str, group_label: str,
                k: int) -> tuple[str, str]:
    """The attribution as it may be published: as stored if at least `k` people fit it, else
    without the group, else without the organisation (generic)."""
    for candidate in ((organisation, group_label), (organisation, "")):
        if any(candidate) and fitting(people, *candidate) >= k:
            return candidate
    return GENERIC


def choices(people: Sequence[Person], k: int) -> list[tuple[str, str]]:
    """Every attribution at least `k` people fit: generic first, then each organisation
    followed by its groups, then groups without an organisation (alphabetical)."""
    organisations = sorted({p.organisation for p in people if p.organisation})
    labels = sorted({label for p in people for label, _ in p.groups}, key=_natural)
    found = [GENERIC]
    for organisation in organisations:
        found += [c for c in [(organisation, ""), *((organisation, label) for label in labels)]
                  if fitting(people, *c) >= k]
    return found + [("", label) for label in labels if fitting(people, "", label) >= k]


def text_of(organisation: str, group_label: str) -> str:
    """"Vejle Kommune, Buddyordning 2"; empty for the generic attribution."""
    return ", ".join(part for part in (organisation, group_label) if part)


def _natural(label: str) -> tuple:
    """"Gruppe 2" before "Gruppe 10"."""
    head, _, tail = label.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (label, 0)

