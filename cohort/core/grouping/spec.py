"""What a grouping is asked for: people, the programme's spec, the facilitator's rules, weights.

And what follows from them alone: how many groups of which sizes n people allow (the hard size
rule), and which programme roles and attribute values each person has.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("buddy", "team")


class GroupingError(ValueError):
    """A grouping that cannot be made at all (too few people for the sizes, duplicate ids)."""


@dataclass(frozen=True)
class Person:
    id: str  # the email in the product
    name: str = ""
    organisation: str = ""
    role: str = ""
    language: str = ""
    tags: tuple[tuple[str, str], ...] = ()  # further attributes a programme may mix/balance

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class GroupingSpec:
    kind: str = "buddy"
    size: tuple[int, int] = (2, 3)
    rotations: int = 1
    mix: tuple[str, ...] = ()
    balance: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    @classmethod
    def from_programme(cls, grouping) -> GroupingSpec:
        """From a `core.programme.Grouping`."""
        return cls(kind=grouping.kind, size=tuple(grouping.size), rotations=grouping.rotations,
                   mix=tuple(grouping.mix), balance=tuple(grouping.balance),
                   roles=tuple(grouping.roles))

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(entry.split("|")[0].strip() for entry in self.roles)


@dataclass(frozen=True)
class Rules:
    """The facilitator's hard rules, as pairs of person ids."""

    together: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Weights:
    mix: int = 1
    fresh: int = 2
    role: int = 3
    balance: int = 1


# --- sizes --------------------------------------------------------------------------------

def allowed_counts(n: int, spec: GroupingSpec) -> range:
    """How many groups n people may form (empty when they cannot be grouped)."""
    low, high = spec.size
    if n < low:
        return range(0)
    if spec.kind == "buddy":
        return range(n // low, n // low + 1)
    return range(-(-n // high), n // low + 1)


def size_bounds(n: int, spec: GroupingSpec) -> tuple[int, int]:
    """Smallest and largest group. Buddies may exceed the range by the odd one out."""
    low, high = spec.size
    if spec.kind == "buddy" and n >= low:
        high = max(high, -(-n // (n // low)))
    return low, high


def group_sizes(n: int, spec: GroupingSpec) -> list[int]:
    """The size of each group, as even as possible; GroupingError if n cannot be grouped."""
    if n == 0:
        return []
    counts = allowed_counts(n, spec)
    low, high = spec.size
    if not counts:
        raise GroupingError(f"{n} participant(s) cannot form groups of {low}-{high}")
    if spec.kind == "buddy":
        count = counts.start
    else:
        count = min(max(round(2 * n / (low + high)), counts.start), counts.stop - 1)
    base, extra = divmod(n, count)
    return [base + 1] * extra + [base] * (count - extra)


def can_group(n: int, spec: GroupingSpec) -> bool:
    return bool(allowed_counts(n, spec))


# --- roles and attributes ------------------------------------------------------------------

def person_roles(person: Person, spec: GroupingSpec) -> tuple[str, ...]:
    """The programme roles a participant has (see the module docstring for the matching)."""
    haystack = " ".join([person.role, *(v for k, v in person.tags if k == "role")]).casefold()
    found = []
    for entry, name in zip(spec.roles, spec.role_names, strict=True):
        words = [w.strip().casefold() for w in entry.split("|") if w.strip()]
        if any(word in haystack for word in words):
            found.append(name)
    return tuple(found)


def attribute_value(person: Person, attribute: str, spec: GroupingSpec) -> str:
    if attribute == "organisation":
        return person.organisation.strip()
    if attribute == "language":
        return person.language.strip()
    if attribute == "role":
        if spec.roles:
            roles = person_roles(person, spec)
            return roles[0] if roles else ""
        return person.role.strip()
    return dict(person.tags).get(attribute, "").strip()
