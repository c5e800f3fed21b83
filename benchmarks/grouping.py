"""Grouping quality and speed against a random-shuffle baseline, measured in the same run.

    .venv/bin/python -m benchmarks.grouping [--repeat 3]

For 30, 500 and 5,000 participants from 40 organisations of uneven size (a few large
municipalities, many small ones), 3 rotations, with a few hard rules (1 % of people in a
forbidden pair, 1 % in a locked pair): time for all rotations, hard-rule violations, repeat
partners (pairs together in an earlier rotation), same-organisation pairs (locked pairs are
not counted in either) and the score.
Buddy pairs (2-3) and project teams (4-7 with roles) are both measured. The baseline is what
popular tools do: shuffle, cut into the same sizes.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from itertools import combinations

from cohort.core.grouping import (
    GroupingSpec,
    Person,
    Rules,
    evaluate,
    group_sizes,
    plan,
)

ORGANISATIONS = 40
ROTATIONS = 3
ROLE_TEXTS = ["Leder, hjemmeplejen", "Specialist, demens", "Facilitator", "Interesseret",
              "Sygeplejerske", "Centerleder"]
SPECS = {
    "buddies 2-3": GroupingSpec("buddy", (2, 3), ROTATIONS, mix=("organisation",)),
    "teams 4-7": GroupingSpec("team", (4, 7), ROTATIONS, mix=("organisation",),
                              balance=("role",),
                              roles=("leder", "specialist", "facilitator", "interesse")),
}


def cohort(n: int, seed: int = 7) -> tuple[list[Person], Rules]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(ORGANISATIONS)]
    people = [Person(f"p{i:05d}@example.org", f"Person {i}",
                     f"Kommune {rng.choices(range(ORGANISATIONS), weights)[0]:02d}",
                     rng.choice(ROLE_TEXTS), "da") for i in range(n)]
    ids = [p.id for p in people]
    rng.shuffle(ids)
    pairs = max(1, n // 200)
    apart = tuple((ids[2 * i], ids[2 * i + 1]) for i in range(pairs))
    together = tuple((ids[2 * i], ids[2 * i + 1]) for i in range(pairs, 2 * pairs))
    return people, Rules(together=together, apart=apart)


def random_baseline(people: Sequence[Person], spec: GroupingSpec, seed: int) -> list:
    rng = random.Random(seed)
    sizes = group_sizes(len(people), spec)
    rotations = []
    for _ in range(spec.rotations):
        ids = [p.id for p in people]
        rng.shuffle(ids)
        groups, start = [], 0
        for size in sizes:
            groups.append(ids[start:start + size])
            start += size
        rotations.append(groups)
    return rotations


def figures(people, spec, rules, rotations) -> dict:
    """Counts over all rotations; pairs the facilitator locked together are not counted."""
    organisation = {p.id: p.organisation for p in people}
    locked = {frozenset(pair) for pair in rules.together}
    judged = evaluate(people, spec, rotations, rules=rules)
    seen: set[frozenset] = set()
    repeats = same_org = 0
    for groups in rotations:
        pairs = {frozenset(pair) for g in groups for pair in combinations(g, 2)} - locked
        repeats += len(pairs & seen)
        same_org += sum(1 for a, b in map(tuple, pairs) if organisation[a] == organisation[b])
        seen |= pairs
    return {"violations": len(judged.violations), "repeats": repeats, "same_org": same_org,
            "score": judged.score}


def measure(n: int, label: str, spec: GroupingSpec, repeat: int) -> tuple[dict, dict]:
    people, rules = cohort(n)
    timings, base_timings = [], []
    for run in range(repeat):
        started = time.perf_counter()
        result = plan(people, spec, rules=rules, seed=run)
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        baseline = random_baseline(people, spec, seed=run)
        base_timings.append(time.perf_counter() - started)
    ours = {"time": min(timings), **figures(people, spec, rules, result.members())}
    theirs = {"time": min(base_timings), **figures(people, spec, rules, baseline)}
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (best time)")
    parser.add_argument("--sizes", default="30,500,5000")
    args = parser.parse_args()
    print(f"{ORGANISATIONS} organisations, {ROTATIONS} rotations; times are the best of "
          f"{args.repeat} runs; figures summed over the rotations.")
    header = (f"{'grouping':<12} {'people':>6}  {'method':<8} {'time s':>7} {'viol.':>5} "
              f"{'repeats':>7} {'same org':>8} {'score':>6}")
    print(header)
    print("-" * len(header))
    for label, spec in SPECS.items():
        for n in (int(x) for x in args.sizes.split(",")):
            ours, theirs = measure(n, label, spec, args.repeat)
            for method, row in (("cohort", ours), ("random", theirs)):
                print(f"{label:<12} {n:>6}  {method:<8} {row['time']:>7.3f} "
                      f"{row['violations']:>5} {row['repeats']:>7} {row['same_org']:>8} "
                      f"{row['score']:>6.1f}")
            ratio = (theirs["same_org"] + theirs["repeats"]) / max(1, ours["same_org"]
                                                                   + ours["repeats"])
            print(f"{'':<12} {'':>6}  same-org + repeat pairs: random has {ratio:.1f}x ours")


if __name__ == "__main__":
    main()
