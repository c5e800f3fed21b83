"""Who gets a new partner when groups change: the diff a facilitator confirms before groups
that participants were already told about are planned again or repaired.

Pure: two groupings (per rotation, the groups' member ids) in, one entry per person and
rotation whose partners differ out. Someone who left (in the old groups only) is not listed:
there is nobody to tell. Someone who joined is listed with no partners before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Rotations = Sequence[Sequence[Sequence[str]]]  # rotation -> group -> member ids


@dataclass(frozen=True)
class PartnerChange:
    """One person's partners in one rotation, before and after (sorted ids, without them)."""

    person: str
    rotation: int  # 1, 2, ...
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def joined(self) -> tuple[str, ...]:
        return tuple(p for p in self.after if p not in self.before)

    @property
    def left(self) -> tuple[str, ...]:
        return tuple(p for p in self.before if p not in self.after)


def partners(groups: Sequence[Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Person -> the other members of their group (sorted), for one rotation."""
    found: dict[str, tuple[str, ...]] = {}
    for members in groups:
        for person in members:
            found[person] = tuple(sorted(m for m in members if m != person))
    return found


def partner_changes(before: Rotations, after: Rotations) -> list[PartnerChange]:
    """Everyone in `after` whose partners in some rotation are not what they were in
    `before`, by rotation and person. Renumbering groups or reordering members is no change."""
    changes = []
    for index, groups in enumerate(after):
        old = partners(before[index]) if index < len(before) else {}
        for person, now in sorted(partners(groups).items()):
            was = old.get(person, ())
            if was != now:
                changes.append(PartnerChange(person, index + 1, was, now))
    return changes


def changed_people(changes: Sequence[PartnerChange]) -> list[str]:
    """The people in `changes`, each once, in order."""
    return sorted({change.person for change in changes})
