"""The exact optimum of one rotation, for comparing the heuristic on small cohorts.

Written apart from the core on purpose: it scores groups from the objective as documented in
`cohort.core.grouping` (not with the core's own code), enumerates every possible group and
solves the set-partitioning problem exactly with an integer program (scipy's HiGHS):

    minimise  sum_G cost(G) x_G
    such that every person is in exactly one chosen G,
              the chosen groups have the planned sizes (as many of each size),
              x_G in {0, 1}.

Groups holding a forbidden pair, or holding one of a locked pair without the other, are not
candidates at all, so hard rules hold by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from cohort.core.grouping import GroupingSpec, Person, Weights, group_sizes, person_roles

DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Optimum:
    penalty: int
    possible: int
    groups: list[list[str]]

    @property
    def score(self) -> float:
        return 100.0 * (1 - self.penalty / self.possible) if self.possible else 100.0


class Objective:
    """The documented objective, written from the docstring, independently of the core."""

    def __init__(self, people: Sequence[Person], spec: GroupingSpec, met: set[frozenset],
                 together: Sequence[tuple[str, str]] = (), weights: Weights = DEFAULT_WEIGHTS):
        self.people = {p.id: p for p in people}
        self.spec, self.w = spec, weights
        self.met = met - {frozenset(pair) for pair in together}  # locked pairs are exempt
        self.n = len(people)
        self.roles = {p.id: set(person_roles(p, spec)) for p in people}
        self.balance_totals = {a: Counter(self._value(p, a) for p in people if self._value(p, a))
                               for a in spec.balance}

    def _value(self, person: Person, attribute: str) -> str:
        if attribute == "role" and self.spec.roles:
            roles = person_roles(person, self.spec)
            return roles[0] if roles else ""
        return getattr(person, attribute).strip().casefold()

    def cost(self, group: Sequence[str]) -> int:
        cost = 0
        for a, b in combinations(group, 2):
            pa, pb = self.people[a], self.people[b]
            for attribute in self.spec.mix:
                va, vb = self._value(pa, attribute), self._value(pb, attribute)
                if va and va == vb:
                    cost += self.w.mix
            if frozenset((a, b)) in self.met:
                cost += self.w.fresh
        present = set().union(*(self.roles[m] for m in group))
        cost += self.w.role * sum(1 for r in self.spec.role_names if r not in present)
        size = len(group)
        for attribute, totals in self.balance_totals.items():
            counts = Counter(self._value(self.people[m], attribute) for m in group)
            for value, total in totals.items():
                low, high = total * size // self.n, -(-total * size // self.n)
                if not low <= counts[value] <= high:
                    cost += self.w.balance
        return cost

    def possible(self, sizes: Sequence[int]) -> int:
        per_pair = self.w.mix * len(self.spec.mix) + (self.w.fresh if self.met else 0)
        per_group = (self.w.role * len(self.spec.roles)
                     + self.w.balance * sum(len(t) for t in self.balance_totals.values()))
        return sum(s * (s - 1) // 2 * per_pair + per_group for s in sizes)


def exact_optimum(people: Sequence[Person], spec: GroupingSpec, met: set[frozenset],
                  together: Sequence[tuple[str, str]] = (),
                  apart: Sequence[tuple[str, str]] = ()) -> Optimum:
    objective = Objective(people, spec, met, together)
    ids = sorted(p.id for p in people)
    sizes = group_sizes(len(ids), spec)
    wanted = Counter(sizes)
    apart_sets = [frozenset(pair) for pair in apart]
    candidates: list[tuple[str, ...]] = []
    for size in sorted(wanted):
        for group in combinations(ids, size):
            members = set(group)
            if any(pair <= members for pair in apart_sets):
                continue
            if any((a in members) != (b in members) for a, b in together):
                continue
            candidates.append(group)
    costs = np.array([objective.cost(g) for g in candidates], dtype=float)
    index = {m: i for i, m in enumerate(ids)}
    size_rows = {s: len(ids) + i for i, s in enumerate(sorted(wanted))}
    rows, cols = [], []
    for c, group in enumerate(candidates):
        for m in group:
            rows.append(index[m])
            cols.append(c)
        rows.append(size_rows[len(group)])
        cols.append(c)
    matrix = csr_array((np.ones(len(rows)), (rows, cols)),
                       shape=(len(ids) + len(wanted), len(candidates)))
    target = np.array([1.0] * len(ids) + [float(wanted[s]) for s in sorted(wanted)])
    result = milp(costs, constraints=LinearConstraint(matrix, target, target),
                  integrality=np.ones(len(candidates)), bounds=Bounds(0, 1))
    assert result.status == 0, result.message
    chosen = [list(candidates[c]) for c in np.flatnonzero(result.x > 0.5)]
    penalty = int(round(sum(objective.cost(g) for g in chosen)))
    return Optimum(penalty, objective.possible(sizes), chosen)
