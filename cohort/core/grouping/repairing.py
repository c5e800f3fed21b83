"""Repair: published groups brought in line with who is in the cohort now, changing as few
groups as possible.

Leavers are dropped, groups left too small are dissolved, joiners and orphans go into new
groups or groups with room, broken hard rules are fixed (`_RepairPlan`, the forced part);
then only the groups that had to change are improved by the search.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from .context import Context, ordered_pair
from .costs import Problem, State
from .forming import search_effort
from .judging import judge
from .result import Repair, RotationRepair
from .search import improve, units_in
from .spec import GroupingSpec, Person, Rules, Weights, allowed_counts, can_group, size_bounds

# --- repair -------------------------------------------------------------------------------

def repair(people: Sequence[Person], spec: GroupingSpec,
           previous: Sequence[Sequence[Sequence[str]]], *,
           history: Iterable[Iterable[str]] = (), rules: Rules = Rules(), seed: int = 0,
           language: str = "en", weights: Weights = Weights()) -> Repair:
    """Bring published groups in line with who is in the cohort now, changing as few groups as
    possible: leavers are dropped, groups left too small are dissolved, joiners and orphans go
    into new groups or groups with room, broken hard rules are fixed. Only the groups that
    had to change are then improved; others are touched only to keep a hard rule.
    """
    context = Context(people, spec, rules, weights)
    n = context.n
    rng = random.Random(seed)
    before = context.pairs_of(history)
    present = [[[context.index[m] for m in g if m in context.index] for g in r] for r in previous]
    repaired: list[list[list[int]]] = []
    for r, groups in enumerate(present):
        others = repaired[:r] + present[r + 1:]
        met = before | {ordered_pair(a, b) for rot in others for g in rot
                        for i, a in enumerate(g) for b in g[i + 1:]}
        if not can_group(n, spec):
            repaired.append([])
            continue
        low, high = size_bounds(n, spec)
        blocks = [b for block in context.blocks
                  for b in ([block] if len(block) <= high else [[m] for m in block])]
        repaired.append(_repair_rotation(context, context.problem(met, blocks), groups, rng))
    rotations = [context.ids(r) for r in repaired]
    stats = tuple(_repair_stats(context, number, old, new) for number, (old, new)
                  in enumerate(zip(present, repaired, strict=True), start=1))
    return Repair(judge(context, rotations, before, language), stats)


def _repair_stats(context: Context, number: int, old: list[list[int]],
                  new: list[list[int]]) -> RotationRepair:
    old_sets = {frozenset(g) for g in old if g}
    changed = sum(1 for g in new if frozenset(g) not in old_sets)
    partners_before: dict[int, set[int]] = {}
    for g in old:
        for m in g:
            partners_before.setdefault(m, set()).update(x for x in g if x != m)
    fresh = sorted(context.people[m].id for g in new for m in g
                   if set(g) - {m} - partners_before.get(m, set()))
    return RotationRepair(number, changed, tuple(fresh))


def _repair_rotation(context: Context, problem: Problem, previous: list[list[int]],
                     rng: random.Random) -> list[list[int]]:
    plan = _RepairPlan(context, problem, previous)
    plan.keep_blocks_together()
    plan.dissolve_out_of_range()
    plan.place_pool()
    plan.mark_hard_conflicts()
    low, high = size_bounds(context.n, context.spec)
    untouched = [g for g in range(len(plan.groups)) if g not in plan.touched]
    state = State(problem, plan.groups, low, high, strict_profile=False, frozen=untouched)
    improve(state, rng, scope=units_in(state, sorted(plan.touched)),
            sample=search_effort(context.n)[2])
    return [g for g in state.members if g]


class _RepairPlan:
    """The forced part of a repair: who must move, where they can go, which groups change."""

    def __init__(self, context: Context, problem: Problem, previous: list[list[int]]):
        self.context, self.problem = context, problem
        self.low, self.high = size_bounds(context.n, context.spec)
        self.counts = allowed_counts(context.n, context.spec)
        self.groups: list[list[int]] = []
        self.touched: set[int] = set()
        seen: set[int] = set()
        for group in previous:
            members = [m for m in group if m not in seen]
            seen.update(members)
            if len(members) != len(group):
                self.touched.add(len(self.groups))
            if members:
                self.groups.append(members)
        self.pool = [m for m in range(context.n) if m not in seen]

    def _home(self) -> dict[int, int]:
        return {m: g for g, members in enumerate(self.groups) for m in members}

    def keep_blocks_together(self) -> None:
        home = self._home()
        for block in self.problem.blocks:
            homes = [home.get(m) for m in block]
            if len(block) == 1 or (homes[0] is not None and len(set(homes)) == 1):
                continue
            located = [h for h in homes if h is not None]
            anchor = Counter(located).most_common(1)[0][0] if located else None
            for member, h in zip(block, homes, strict=True):
                if h == anchor:
                    continue
                if h is None:
                    self.pool.remove(member)
                else:
                    self.groups[h].remove(member)
                    self.touched.add(h)
                if anchor is None:
                    self.pool.append(member)
                else:
                    self.groups[anchor].append(member)
                    self.touched.add(anchor)

    def dissolve_out_of_range(self) -> None:
        """Groups too small go to the pool; groups too big shed their worst-placed units."""
        keep: list[list[int]] = []
        touched: set[int] = set()
        for g, members in enumerate(self.groups):
            if len(members) < self.low:
                self.pool.extend(members)
                continue
            shed = len(members) > self.high and self._shed(members)
            if shed or g in self.touched:
                touched.add(len(keep))
            keep.append(members)
        self.groups, self.touched = keep, touched
        while len(self.groups) > self.counts.stop - 1:
            smallest = min(range(len(self.groups)), key=lambda g: (len(self.groups[g]), g))
            self.pool.extend(self.groups.pop(smallest))
            self.touched = {g - (g > smallest) for g in self.touched if g != smallest}

    def _shed(self, members: list[int], keep: Collection[int] = ()) -> bool:
        """Drop the units that suit the group least until it fits (whole locked blocks), back
        into the pool; people in `keep` stay."""
        unit_of, blocks = self.problem.unit_of, self.problem.blocks
        shed = False
        while len(members) > self.high:
            movable = [m for m in members if m not in keep]
            singles = [m for m in movable if len(blocks[unit_of[m]]) == 1] or movable
            worst = max(singles, key=lambda m: (self.problem.cost_to(
                m, [x for x in members if x != m]), -m))
            for m in blocks[unit_of[worst]]:
                members.remove(m)
                self.pool.append(m)
            shed = True
        return shed

    def place_pool(self) -> None:
        target = max(len(self.groups), self.counts.start)
        room = sum(self.high - len(g) for g in self.groups)
        while (target < self.counts.stop - 1
               and len(self.pool) > room + (target - len(self.groups)) * self.high):
            target += 1
        for _ in range(target - len(self.groups)):
            self.touched.add(len(self.groups))
            self.groups.append([])
        # Placing a locked block may send single people back to the pool (see _place); they
        # are placed in the next round and never send anyone back themselves.
        while self.pool:
            for unit in self._pool_units():
                self._place(unit)
        self._fill_small_groups()

    def _pool_units(self) -> list[list[int]]:
        unit_of, blocks = self.problem.unit_of, self.problem.blocks
        units = {unit_of[m] for m in self.pool}
        self.pool = []
        return sorted((blocks[u] for u in units), key=lambda b: (-len(b), b))

    def _place(self, unit: list[int]) -> None:
        """Into the group that needs people most, then the one that changes least and suits.

        A locked block may find no group with room although the groups have room in total
        (every group one short of full, two locked together in the pool). Then it goes where
        it would best fit and that group sends enough of its single people back to the pool
        to stay within the size range; they are placed like the rest of the pool.
        """
        unit_of, blocks = self.problem.unit_of, self.problem.blocks
        fits = [g for g, members in enumerate(self.groups)
                if len(members) + len(unit) <= self.high]
        can_make_room = [g for g, members in enumerate(self.groups) if len(unit) > 1
                         and sum(1 for m in members if len(blocks[unit_of[m]]) == 1)
                         >= len(members) + len(unit) - self.high]
        options = fits or can_make_room or range(len(self.groups))

        def rank(g: int) -> tuple:
            members = self.groups[g]
            return (len(members) >= self.low, g not in self.touched,
                    sum(self.problem.cost_to(m, members) for m in unit), g)

        best = min(options, key=rank)
        self.groups[best].extend(unit)
        self.touched.add(best)
        if not fits and can_make_room:
            self._shed(self.groups[best], keep=unit)

    def _fill_small_groups(self) -> None:
        """New groups still below the minimum take one person from groups above it."""
        unit_of, blocks = self.problem.unit_of, self.problem.blocks
        for g, members in enumerate(self.groups):
            while len(members) < self.low:
                donors = [(d, m) for d, other in enumerate(self.groups) if d != g
                          and len(other) > self.low for m in other
                          if len(blocks[unit_of[m]]) == 1]
                if not donors:
                    break
                d, m = min(donors, key=lambda choice: self._donor_rank(choice, g))
                self.groups[d].remove(m)
                members.append(m)
                self.touched.update((d, g))

    def _donor_rank(self, choice: tuple[int, int], receiver: int) -> tuple:
        """Prefer groups already changed, then the person who suits the new group best."""
        d, m = choice
        rest = [x for x in self.groups[d] if x != m]
        return (d not in self.touched, self.problem.cost_to(m, self.groups[receiver])
                - self.problem.cost_to(m, rest), d, m)

    def mark_hard_conflicts(self) -> None:
        apart = self.context.apart
        for g, members in enumerate(self.groups):
            if any(ordered_pair(a, b) in apart for a in members for b in members if a < b):
                self.touched.add(g)
