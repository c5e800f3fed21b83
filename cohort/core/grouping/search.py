"""The search behind the grouping: a compiled problem, an incremental state, local search.

Kept apart from the public API because this part is about speed. People are small integers,
attributes are integer codes in flat lists, and every candidate move is scored by what it
changes (the members of two groups, O(group size)), never by rescoring the whole grouping. That
is what lets 5,000 participants be grouped in a fraction of a second in pure Python.

The objective is the one documented in `core.grouping`: a penalty made of pair costs
(same value of a `mix` attribute, met before, forbidden) and group costs (required roles
missing, `balance` values outside their fair share).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
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


def units_in(state: State, groups: Iterable[int]) -> list[int]:
    units: list[int] = []
    unit_of = state.p.unit_of
    for g in groups:
        for person in state.members[g]:
            u = unit_of[person]
            if state.p.blocks[u][0] == person:
                units.append(u)
    return units


def improve(state: State, rng: random.Random, scope: Sequence[int] | None = None,
            sample: int | None = None) -> bool:
    """Descend: each unit that suffers takes its best swap or move, until none helps.

    Don't-look bits: a unit that found nothing is not tried again until a move changes its
    group, so units with an unavoidable penalty (a role nobody left can bring) cost one scan,
    not one per pass. `scope` limits which units may start a move (repair); they try every
    other unit in scope and, beyond it, anyone (or, with `sample`, that many random units).
    """
    p = state.p
    all_units = list(range(len(p.blocks)))
    allowed = None if scope is None else set(scope)
    queue = [u for u in (all_units if scope is None else scope) if state.unit_cost(u) > 0]
    rng.shuffle(queue)
    waiting = set(queue)
    improved = False
    while queue:
        u = queue.pop()
        waiting.discard(u)
        if state.unit_cost(u) <= 0:
            continue
        changed = _best_step(state, u, all_units, rng, sample, scope or ())
        if not changed:
            continue
        improved = True
        woken = [p.unit_of[x] for g in changed for x in state.members[g]]
        if allowed is not None:
            woken = [v for v in woken if v in allowed]
        for v in woken:
            if v not in waiting and state.unit_cost(v) > 0:
                waiting.add(v)
                queue.append(v)
    return improved


def _best_step(state: State, u: int, units: list[int], rng: random.Random,
               sample: int | None, always: Sequence[int] = ()) -> tuple[int, int] | None:
    """Apply u's best improving swap or move (on large cohorts, with sampled partners, the
    first one found: most conflicts there are fixed by almost any partner); return the two
    groups it changed."""
    p = state.p
    size_u = len(p.blocks[u])
    home = state.group_of[p.blocks[u][0]]
    first = sample is not None and sample < len(units)  # large cohort: first improvement
    partners = [*always, *rng.sample(units, sample)] if first else units
    useful = _useful_partners(state, u, home)
    best, action = 0, None
    tried_groups = set()
    for v in partners:
        g = state.group_of[p.blocks[v][0]]
        if g == home:
            continue
        if len(p.blocks[v]) == size_u and (useful is None or useful(p.blocks[v][0])):
            delta = state.delta_swap(u, v)
            if delta < best:
                best, action = delta, ("swap", v, g)
        if g not in tried_groups:
            tried_groups.add(g)
            if state.can_move(u, g):
                delta = state.delta_move(u, g)
                if delta < best:
                    best, action = delta, ("move", g, g)
        if first and action is not None:
            break
    if action is None:
        return None
    if action[0] == "swap":
        state.swap(u, action[1])
    else:
        state.move(u, action[1])
    return home, action[2]


def _useful_partners(state: State, u: int, home: int) -> Callable[[int], bool] | None:
    """A cheap test for swap partners when u suffers only from its group's penalty.

    Then a swap helps u's group only if the partner brings a missing role or a value the group
    has too little of (u taking away a value the group has too much of is the other way, and
    then anyone may help: None). Partners that suffer themselves get their own turn.
    """
    p = state.p
    block = p.blocks[u]
    if not p.has_group_level or len(block) != 1 or state.unit_cost(u) > state.level[home]:
        return None
    person = block[0]
    missing = {r for r, count in enumerate(state.roles[home]) if count == 0}
    size = len(state.members[home])
    scarce: list[set[int]] = []
    for attribute, codes in enumerate(p.balance):
        fair, counts = p.fair_ranges(attribute, size), state.counts[home][attribute]
        code = codes[person]
        if code >= 0 and counts[code] > fair[code][1]:
            return None
        scarce.append({v for v, count in enumerate(counts) if count < fair[v][0]})

    def useful(partner: int) -> bool:
        if missing and any(r in missing for r in p.roles[partner]):
            return True
        return any(codes[partner] in wanted
                   for codes, wanted in zip(p.balance, scarce, strict=True) if wanted)

    return useful


def kick(state: State, rng: random.Random, strength: int = 2) -> None:
    """Random swaps that start from suffering units: a jump out of a local optimum."""
    p = state.p
    units = list(range(len(p.blocks)))
    suffering = [u for u in units if state.unit_cost(u) > 0] or units
    for _ in range(strength):
        u = rng.choice(suffering)
        same = [v for v in units if len(p.blocks[v]) == len(p.blocks[u])
                and state.group_of[p.blocks[v][0]] != state.group_of[p.blocks[u][0]]]
        if same:
            state.swap(u, rng.choice(same))


def search(problem: Problem, groups: list[list[int]], low: int, high: int, rng: random.Random,
           kicks: int, sample: int | None, patience: int | None = None) -> list[list[int]]:
    """Local search from a construction, then iterated local search: random kicks, each
    followed by descent, keeping the best; stops at zero penalty, after `kicks` kicks or after
    `patience` kicks in a row that found nothing better.
    """
    patience = kicks if patience is None else patience
    state = State(problem, groups, low, high)
    improve(state, rng, sample=sample)
    best_penalty = state.penalty()
    best = [list(m) for m in state.members]
    idle = 0
    for _ in range(kicks):
        if best_penalty == 0 or idle >= patience:
            break
        kick(state, rng)
        improve(state, rng, sample=sample)
        penalty = state.penalty()
        idle = 0 if penalty < best_penalty else idle + 1
        if penalty <= best_penalty:
            best_penalty, best = penalty, [list(m) for m in state.members]
        else:
            state = State(problem, best, low, high)
    return best


def construct(problem: Problem, sizes: Sequence[int], rng: random.Random,
              window: int = 8) -> list[list[int]]:
    """Deal people round-robin in an order that spreads rare roles and balance values (rarest
    first), each person taking the best-suited of the next `window` groups with room (fewest
    shared organisations, met-before partners, duplicate roles). Locked blocks go first, whole.
    """
    groups: list[list[int]] = [[] for _ in sizes]
    free = list(sizes)
    count = len(sizes)
    singles = []
    for block in sorted(problem.blocks, key=len, reverse=True):
        if len(block) == 1:
            singles.append(block[0])
            continue
        target = max(range(count), key=lambda g: (free[g], -g))
        if free[target] < len(block):
            singles.extend(block)  # a block that cannot fit is dealt as singles (and reported)
            continue
        groups[target].extend(block)
        free[target] -= len(block)
    key = _deal_order(problem, rng)
    singles.sort(key=key.__getitem__)
    role_sets = [set() for _ in sizes]
    for g, members in enumerate(groups):
        for person in members:
            role_sets[g].update(problem.roles[person])
    pointer = 0
    for person in singles:
        options = []
        g = pointer
        for _ in range(count):
            if free[g] > 0:
                options.append(g)
                if len(options) == window:
                    break
            g = (g + 1) % count
        best = min(options, key=lambda g: _unsuited(problem, person, groups[g], role_sets[g]))
        groups[best].append(person)
        role_sets[best].update(problem.roles[person])
        free[best] -= 1
        pointer = (options[0] + 1) % count
    return groups


def _unsuited(problem: Problem, person: int, members: list[int], roles: set[int]) -> int:
    duplicate = sum(1 for r in problem.roles[person] if r in roles)
    return problem.cost_to(person, members) + problem.w_role * duplicate


def _deal_order(problem: Problem, rng: random.Random) -> list[tuple]:
    role_totals = [0] * problem.n_roles
    for roles in problem.roles:
        for role in roles:
            role_totals[role] += 1
    columns = [*problem.balance, *problem.mix]
    ranks = [_value_ranks(codes, rng) for codes in columns]
    noise = list(range(problem.n))
    rng.shuffle(noise)
    keys = []
    for person in range(problem.n):
        rarest = min((role_totals[r] for r in problem.roles[person]), default=problem.n + 1)
        keys.append((rarest, *(rank[codes[person]] for rank, codes in zip(ranks, columns,
                                                                            strict=True)),
                     noise[person]))
    return keys


def _value_ranks(codes: list[int], rng: random.Random) -> dict[int, int]:
    """Value code -> position when values are ordered by frequency (ties in random order)."""
    totals: dict[int, int] = {}
    for code in codes:
        totals[code] = totals.get(code, 0) + 1
    values = sorted(totals)
    rng.shuffle(values)
    values.sort(key=lambda code: (code < 0, -totals[code]))
    return {code: rank for rank, code in enumerate(values)}
