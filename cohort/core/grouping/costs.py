"""What groups and moves cost, fast: the compiled `Problem` and the incremental `State`.

Kept apart from the public API because this part is about speed. People are small integers,
attributes are integer codes in flat lists, and every candidate move is scored by what it
changes (the members of two groups, O(group size)), never by rescoring the whole grouping. That
is what lets 5,000 participants be grouped in a fraction of a second in pure Python.

The objective is the one documented in `core.grouping`: a penalty made of pair costs
(same value of a `mix` attribute, met before, forbidden) and group costs (required roles
missing, `balance` values outside their fair share).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# A forbidden pair inside a group, or a group change during repair, costs more than any sum of
# soft goals can gain, so the search trades them only against each other.
HARD = 1_000_000
CHANGE = 10_000


@dataclass
class Problem:
    """One rotation's optimisation problem with people as ints 0..n-1."""

    n: int
    mix: list[list[int]]  # per mix attribute: value code per person, -1 when unknown
    w_mix: int
    extra: list[dict[int, int]]  # per person: partner -> cost of met-before and forbidden
    roles: list[tuple[int, ...]]  # per person: indices of the required roles they have
    n_roles: int
    w_role: int
    balance: list[list[int]]  # per balance attribute: value code per person, -1 when unknown
    balance_totals: list[list[int]]  # per balance attribute: how many people have each value
    w_balance: int
    blocks: list[list[int]]  # people locked together (singletons for everyone else)
    _fair: dict[int, list[list[tuple[int, int]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.unit_of = [0] * self.n
        for index, block in enumerate(self.blocks):
            for person in block:
                self.unit_of[person] = index
        self.has_group_level = bool(self.n_roles or self.balance)

    def pair_cost(self, a: int, b: int) -> int:
        cost = self.extra[a].get(b, 0)
        for codes in self.mix:
            code = codes[a]
            if code >= 0 and code == codes[b]:
                cost += self.w_mix
        return cost

    def cost_to(self, a: int, others: Iterable[int]) -> int:
        return sum(self.pair_cost(a, b) for b in others)

    def fair_ranges(self, attribute: int, size: int) -> list[tuple[int, int]]:
        """(floor, ceil) of each value's share in a group of this size."""
        ranges = self._fair.get(size)
        if ranges is None:
            ranges = [[(total * size // self.n, -(-total * size // self.n)) for total in totals]
                      for totals in self.balance_totals]
            self._fair[size] = ranges
        return ranges[attribute]

    def group_level(self, role_counts: list[int], balance_counts: list[list[int]],
                    size: int) -> int:
        penalty = self.w_role * role_counts.count(0) if self.n_roles else 0
        for attribute, counts in enumerate(balance_counts):
            for count, (low, high) in zip(counts, self.fair_ranges(attribute, size), strict=True):
                if count < low or count > high:
                    penalty += self.w_balance
        return penalty

    def group_penalty(self, members: Sequence[int]) -> int:
        """A whole group's penalty from scratch (used to judge stored or edited groups)."""
        pairs = sum(self.pair_cost(a, members[j]) for i, a in enumerate(members)
                    for j in range(i + 1, len(members)))
        if not self.has_group_level:
            return pairs
        roles = [0] * self.n_roles
        counts = [[0] * len(totals) for totals in self.balance_totals]
        for person in members:
            for role in self.roles[person]:
                roles[role] += 1
            for attribute, codes in enumerate(self.balance):
                if codes[person] >= 0:
                    counts[attribute][codes[person]] += 1
        return pairs + self.group_level(roles, counts, len(members))


class State:
    """Groups plus the counts that make a move's cost cheap to compute."""

    def __init__(self, problem: Problem, groups: Sequence[Sequence[int]], low: int, high: int,
                 strict_profile: bool = True, frozen: Iterable[int] = ()) -> None:
        self.p = problem
        self.low, self.high = low, high
        self.strict_profile = strict_profile  # moves keep the multiset of sizes (planning)
        self.members = [list(group) for group in groups]
        self.group_of = [-1] * problem.n
        self.roles = [[0] * problem.n_roles for _ in groups]
        self.counts = [[[0] * len(t) for t in problem.balance_totals] for _ in groups]
        for g, members in enumerate(self.members):
            for person in members:
                self.group_of[person] = g
            self._shift(g, members, 1)
        self.level = [self._level(g) for g in range(len(groups))]
        # Repair: groups not yet changed cost CHANGE to touch.
        self.untouched = set(frozen)

    # --- counts -------------------------------------------------------------------------
    def _shift(self, g: int, people: Iterable[int], sign: int) -> None:
        if not self.p.has_group_level:
            return
        roles, counts = self.roles[g], self.counts[g]
        for person in people:
            for role in self.p.roles[person]:
                roles[role] += sign
            for attribute, codes in enumerate(self.p.balance):
                code = codes[person]
                if code >= 0:
                    counts[attribute][code] += sign

    def _level(self, g: int, size: int | None = None) -> int:
        if not self.p.has_group_level:
            return 0
        size = len(self.members[g]) if size is None else size
        return self.p.group_level(self.roles[g], self.counts[g], size)

    def _level_after(self, g: int, out: Sequence[int], into: Sequence[int], size: int) -> int:
        self._shift(g, out, -1)
        self._shift(g, into, 1)
        value = self._level(g, size)
        self._shift(g, into, -1)
        self._shift(g, out, 1)
        return value

    # --- totals -------------------------------------------------------------------------
    def penalty(self) -> int:
        return sum(self.p.group_penalty(m) for m in self.members)

    def unit_cost(self, u: int) -> int:
        """What unit u suffers in its group: its pair costs plus the group's own penalty."""
        block = self.p.blocks[u]
        g = self.group_of[block[0]]
        rest = [x for x in self.members[g] if self.p.unit_of[x] != u]
        return sum(self.p.cost_to(x, rest) for x in block) + self.level[g]

    # --- moves --------------------------------------------------------------------------
    def _rest(self, g: int, u: int) -> list[int]:
        unit_of = self.p.unit_of
        return [x for x in self.members[g] if unit_of[x] != u]

    def _touch_cost(self, *groups: int) -> int:
        return CHANGE * sum(1 for g in set(groups) if g in self.untouched)

    def delta_swap(self, u: int, v: int) -> int:
        p = self.p
        block_u, block_v = p.blocks[u], p.blocks[v]
        a, b = self.group_of[block_u[0]], self.group_of[block_v[0]]
        if len(block_u) == 1:
            delta = self._swap_pairs_single(block_u[0], block_v[0], a, b)
        else:
            rest_a, rest_b = self._rest(a, u), self._rest(b, v)
            delta = 0
            for x in block_u:
                delta += p.cost_to(x, rest_b) - p.cost_to(x, rest_a)
            for y in block_v:
                delta += p.cost_to(y, rest_a) - p.cost_to(y, rest_b)
        if p.has_group_level:
            delta += self._swap_level_delta(a, b, block_u, block_v)
        if self.untouched:
            delta += self._touch_cost(a, b)
        return delta

    def _swap_pairs_single(self, x: int, y: int, a: int, b: int) -> int:
        """Pair-cost change of swapping two single people: the hot loop, kept call-free."""
        p = self.p
        extra_x, extra_y = p.extra[x], p.extra[y]
        delta = 0
        for z in self.members[b]:
            if z != y:
                delta += extra_x.get(z, 0) - extra_y.get(z, 0)
        for z in self.members[a]:
            if z != x:
                delta += extra_y.get(z, 0) - extra_x.get(z, 0)
        w = p.w_mix
        for codes in p.mix:
            cx, cy = codes[x], codes[y]
            if cx == cy:
                continue  # same value: the swap changes nothing for this attribute
            for z in self.members[b]:
                if z != y:
                    cz = codes[z]
                    if cz >= 0:
                        delta += w * ((cz == cx) - (cz == cy))
            for z in self.members[a]:
                if z != x:
                    cz = codes[z]
                    if cz >= 0:
                        delta += w * ((cz == cy) - (cz == cx))
        return delta

    def _swap_level_delta(self, a: int, b: int, out: Sequence[int], into: Sequence[int]) -> int:
        """Group-level change of a swap: sizes stay, so only the swapped values can change."""
        p = self.p
        delta = 0
        if p.n_roles:
            change: dict[int, int] = {}
            for person in out:
                for role in p.roles[person]:
                    change[role] = change.get(role, 0) - 1
            for person in into:
                for role in p.roles[person]:
                    change[role] = change.get(role, 0) + 1
            roles_a, roles_b = self.roles[a], self.roles[b]
            for role, d in change.items():
                if d:
                    delta += p.w_role * (((roles_a[role] + d) == 0) - (roles_a[role] == 0)
                                         + ((roles_b[role] - d) == 0) - (roles_b[role] == 0))
        for attribute, codes in enumerate(p.balance):
            change = {}
            for person in out:
                if codes[person] >= 0:
                    change[codes[person]] = change.get(codes[person], 0) - 1
            for person in into:
                if codes[person] >= 0:
                    change[codes[person]] = change.get(codes[person], 0) + 1
            if not any(change.values()):
                continue
            counts_a, counts_b = self.counts[a][attribute], self.counts[b][attribute]
            fair_a = p.fair_ranges(attribute, len(self.members[a]))
            fair_b = p.fair_ranges(attribute, len(self.members[b]))
            for value, d in change.items():
                if d:
                    delta += p.w_balance * (_outside(counts_a[value] + d, fair_a[value])
                                            - _outside(counts_a[value], fair_a[value])
                                            + _outside(counts_b[value] - d, fair_b[value])
                                            - _outside(counts_b[value], fair_b[value]))
        return delta

    def can_move(self, u: int, b: int) -> bool:
        size = len(self.p.blocks[u])
        a = self.group_of[self.p.blocks[u][0]]
        if a == b:
            return False
        size_a, size_b = len(self.members[a]), len(self.members[b])
        if self.strict_profile:
            return size_a - size == size_b
        return size_a - size >= self.low and size_b + size <= self.high

    def delta_move(self, u: int, b: int) -> int:
        p = self.p
        block = p.blocks[u]
        a = self.group_of[block[0]]
        rest_a = self._rest(a, u)
        delta = 0
        for x in block:
            delta += p.cost_to(x, self.members[b]) - p.cost_to(x, rest_a)
        if p.has_group_level:
            delta += (self._level_after(a, block, (), len(rest_a)) - self.level[a]
                      + self._level_after(b, (), block, len(self.members[b]) + len(block))
                      - self.level[b])
        if self.untouched:
            delta += self._touch_cost(a, b)
        return delta

    def swap(self, u: int, v: int) -> None:
        block_u, block_v = self.p.blocks[u], self.p.blocks[v]
        a, b = self.group_of[block_u[0]], self.group_of[block_v[0]]
        self._take(a, block_u)
        self._take(b, block_v)
        self._give(a, block_v)
        self._give(b, block_u)
        self._settle(a, b)

    def move(self, u: int, b: int) -> None:
        block = self.p.blocks[u]
        a = self.group_of[block[0]]
        self._take(a, block)
        self._give(b, block)
        self._settle(a, b)

    def _take(self, g: int, block: Sequence[int]) -> None:
        members = self.members[g]
        for person in block:
            members.remove(person)
        self._shift(g, block, -1)

    def _give(self, g: int, block: Sequence[int]) -> None:
        self.members[g].extend(block)
        for person in block:
            self.group_of[person] = g
        self._shift(g, block, 1)

    def _settle(self, a: int, b: int) -> None:
        self.level[a] = self._level(a)
        self.level[b] = self._level(b)
        self.untouched.discard(a)
        self.untouched.discard(b)


def _outside(count: int, fair: tuple[int, int]) -> int:
    return count < fair[0] or count > fair[1]
