"""Which moves to make: a dealt start (`construct`), descent (`improve`), kicks (`search`).

Local search over a `costs.State`: each unit (a person, or people locked together) that
suffers takes its best swap or move until none helps; iterated random kicks then look for a
better local optimum. Everything random comes from the caller's `random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from .costs import Problem, State


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
