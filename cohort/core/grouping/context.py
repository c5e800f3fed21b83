"""People compiled into the search's integer world, once per grouping.

People become ints (sorted by id), attribute values become codes, roles become role indices,
the facilitator's pairs become int pairs and locked people become blocks; `Context.problem`
then builds one rotation's `Problem` for the search from what has been met before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .costs import HARD, Problem
from .spec import (
    KINDS,
    GroupingError,
    GroupingSpec,
    Person,
    Rules,
    Weights,
    attribute_value,
    person_roles,
)

Pair = tuple[int, int]


def ordered_pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


class Context:
    """What stays the same across rotations: people as ints, codes, roles, blocks, rules."""

    def __init__(self, people: Sequence[Person], spec: GroupingSpec, rules: Rules,
                 weights: Weights) -> None:
        if spec.kind not in KINDS:
            raise GroupingError(f"unknown grouping kind '{spec.kind}'")
        self.people = sorted(people, key=lambda p: p.id)
        self.index = {p.id: i for i, p in enumerate(self.people)}
        if len(self.index) != len(self.people):
            raise GroupingError("the same participant is listed twice")
        self.spec, self.weights = spec, weights
        self.n = len(self.people)
        self.mix_values = [[attribute_value(p, a, spec) for p in self.people] for a in spec.mix]
        self.balance_values = [[attribute_value(p, a, spec) for p in self.people]
                               for a in spec.balance]
        self.balance_totals = [Counter(v.casefold() for v in values if v)
                               for values in self.balance_values]
        names = spec.role_names
        self.person_roles = [person_roles(p, spec) for p in self.people]
        self.role_codes = [tuple(names.index(r) for r in roles) for roles in self.person_roles]
        self.together = self._pairs(rules.together)
        self.apart = self._pairs(rules.apart)
        self.blocks = self._blocks()

    def _pairs(self, pairs: Iterable[tuple[str, str]]) -> set[Pair]:
        found = set()
        for a, b in pairs:
            if a in self.index and b in self.index and a != b:
                found.add(ordered_pair(self.index[a], self.index[b]))
        return found

    def _blocks(self) -> list[list[int]]:
        parent = list(range(self.n))

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in sorted(self.together):
            parent[root(a)] = root(b)
        blocks: dict[int, list[int]] = {}
        for person in range(self.n):
            blocks.setdefault(root(person), []).append(person)
        return sorted(blocks.values())

    def pairs_of(self, groups: Iterable[Iterable[str]]) -> set[Pair]:
        found = set()
        for group in groups:
            members = sorted(self.index[m] for m in group if m in self.index)
            found.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
        return found

    def problem(self, met: set[Pair], blocks: list[list[int]] | None = None,
                hard: bool = True) -> Problem:
        extra: list[dict[int, int]] = [{} for _ in range(self.n)]
        repeats = met - self.together
        for pairs, cost in ((repeats, self.weights.fresh), (self.apart if hard else (), HARD)):
            for a, b in pairs:
                extra[a][b] = extra[a].get(b, 0) + cost
                extra[b][a] = extra[b].get(a, 0) + cost
        balance = [_codes(values) for values in self.balance_values]
        return Problem(
            n=self.n, mix=[_codes(values) for values in self.mix_values], w_mix=self.weights.mix,
            extra=extra, roles=self.role_codes, n_roles=len(self.spec.roles),
            w_role=self.weights.role, balance=balance,
            balance_totals=[_totals(codes) for codes in balance], w_balance=self.weights.balance,
            blocks=blocks if blocks is not None else self.blocks,
        )

    def ids(self, groups: Iterable[Iterable[int]]) -> list[list[str]]:
        return [sorted(self.people[i].id for i in g) for g in groups]


def _codes(values: Sequence[str]) -> list[int]:
    distinct = sorted({v.casefold() for v in values if v})
    code = {v: i for i, v in enumerate(distinct)}
    return [code[v.casefold()] if v else -1 for v in values]


def _totals(codes: Sequence[int]) -> list[int]:
    totals = [0] * (max(codes, default=-1) + 1)
    for c in codes:
        if c >= 0:
            totals[c] += 1
    return totals
