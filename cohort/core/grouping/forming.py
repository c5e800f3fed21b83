"""Forming new groups: one search per rotation, each seeing the earlier ones as history.

How hard to search depends on the cohort's size (`search_effort`); locked blocks that cannot
fit the sizes are dealt as single people and reported by the judge.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from .context import Context
from .judging import judge
from .result import Grouping
from .search import construct, search
from .spec import GroupingSpec, Person, Rules, Weights, group_sizes, size_bounds


def _fit_blocks(blocks: list[list[int]], sizes: Sequence[int]) -> list[list[int]]:
    """Locked blocks that fit the sizes (first fit, largest first); others become singles.

    A block that cannot fit (three locked together among pairs) is broken up; the judge then
    reports the lock it could not keep.
    """
    free = sorted(sizes, reverse=True)
    kept: list[list[int]] = []
    for block in sorted(blocks, key=len, reverse=True):
        if len(block) > 1:
            slot = next((i for i, f in enumerate(free) if f >= len(block)), None)
            if slot is None:
                kept.extend([p] for p in block)
                continue
            free[slot] -= len(block)
        kept.append(block)
    return sorted(kept)


# --- planning -----------------------------------------------------------------------------

def search_effort(n: int) -> tuple[int, int, int | None]:
    """(kicks, patience, sample): thorough on small cohorts (where the exact optimum is within
    reach and kicks find it), sampled partners and plain descent on large ones."""
    if n <= 60:
        return 150, PATIENCE, None
    if n <= 200:
        return 30, 10, None
    return 0, 0, 48


PATIENCE = 30  # kicks in a row without a better grouping before giving up


def plan(people: Sequence[Person], spec: GroupingSpec, *, history: Iterable[Iterable[str]] = (),
         rules: Rules = Rules(), seed: int = 0, language: str = "en",
         weights: Weights = Weights()) -> Grouping:
    """Groups for every rotation of `spec`; GroupingError if the people cannot be grouped."""
    context = Context(people, spec, rules, weights)
    sizes = group_sizes(context.n, spec)
    rng = random.Random(seed)
    before = context.pairs_of(history)
    met = set(before)
    blocks = _fit_blocks(context.blocks, sizes)
    low, high = size_bounds(context.n, spec)
    kicks, patience, sample = search_effort(context.n)
    rotations: list[list[list[str]]] = []
    for _ in range(spec.rotations):
        if not sizes:
            rotations.append([])
            continue
        problem = context.problem(met, blocks)
        groups = search(problem, construct(problem, sizes, rng), low, high, rng, kicks, sample,
                        patience)
        rotations.append(context.ids(groups))
        met |= context.pairs_of(rotations[-1])
    return judge(context, rotations, before, language)
