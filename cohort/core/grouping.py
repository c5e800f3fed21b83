"""Buddy pairs and project teams: constraint-aware, over several rotations, repairable.

Input: participants (`Person`), the programme's grouping (`GroupingSpec`), the pairs that have
been together before (`history`, as past groups) and the facilitator's hard rules (`Rules`).
Output: a `Grouping` per rotation with a per-group explanation in the cohort's language, a
score, the soft goals that could not be met and any hard rule that could not be kept.

Hard constraints (never traded for soft goals):
- sizes: the participants are split into as-even-as-possible groups. Buddies: as many groups
  of the smallest size as possible, so pairs become one trio when the count is odd. Teams: the
  number of groups nearest to n / middle size, sizes within the range.
- locked pairs are in the same group; forbidden pairs are never in the same group.

Soft goals and the score. Every grouping is judged by checks, each met or not, weighted by
`Weights`:
- mix: for every two members of a group and every `mix` attribute, different values (an
  unknown value never counts as the same);
- fresh: for every two members of a group, not together before (only when there is history;
  pairs locked together are exempt);
- roles: for every group and every required role, some member has it;
- balance: for every group, `balance` attribute and value, the group's count of that value is
  within floor/ceil of its fair share (its count in the cohort x group size / n).
penalty = sum of weights of failed checks; score = 100 x (1 - penalty / sum of all weights).
100 means every soft goal is met. The checks depend only on the group sizes, which are fixed
by n, so a higher score is exactly a lower penalty.

Roles: a programme role such as `leder` is matched case-insensitively anywhere in the
participant's role text ('Afdelingsleder, akutteam' has `leder`); an entry may list
alternatives as `ledelseskraft|leder|chef` (the first word is the role's name). A participant
may have several roles or none; people with none count for no role.

Method: deal people round-robin in an order that spreads rare roles and organisations, then
local search (swap two people between groups, move a person between groups of neighbouring
sizes) scored incrementally, with iterated random kicks on small cohorts. Repeats across
rotations are avoided by planning rotations in order, each seeing the earlier ones as history.
Everything random comes from one `random.Random(seed)`: same input and seed, same groups.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from . import grouping_text as text
from .grouping_search import HARD, Problem, State, construct, improve, search, units_in

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


@dataclass(frozen=True)
class Violation:
    rotation: int
    kind: str  # size, count, apart, together, ungrouped, duplicate, unknown
    members: tuple[str, ...]
    message: str

    def as_dict(self) -> dict:
        return {"rotation": self.rotation, "kind": self.kind, "members": list(self.members),
                "message": self.message}


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]
    explanation: str
    penalty: int = 0


@dataclass(frozen=True)
class Rotation:
    rotation: int
    groups: tuple[Group, ...]
    score: float
    penalty: int
    possible: int  # the sum of the weights of all checks
    unmet: tuple[str, ...]
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class Grouping:
    rotations: tuple[Rotation, ...]

    @property
    def penalty(self) -> int:
        return sum(r.penalty for r in self.rotations)

    @property
    def score(self) -> float:
        return _score(self.penalty, sum(r.possible for r in self.rotations))

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(v for r in self.rotations for v in r.violations)

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(u for r in self.rotations for u in r.unmet)

    def members(self) -> list[list[list[str]]]:
        return [[list(g.members) for g in r.groups] for r in self.rotations]

    def as_dict(self) -> dict:
        """The CLI's JSON contract (plus `unmet`)."""
        return {
            "rotations": [{"rotation": r.rotation,
                           "groups": [{"members": list(g.members), "explanation": g.explanation}
                                      for g in r.groups]}
                          for r in self.rotations],
            "score": self.score,
            "violations": [v.as_dict() for v in self.violations],
            "unmet": list(self.unmet),
        }


@dataclass(frozen=True)
class RotationRepair:
    rotation: int
    changed_groups: int  # groups whose present members are not exactly as before
    new_partner: tuple[str, ...]  # people with at least one partner they did not have before


@dataclass(frozen=True)
class Repair:
    grouping: Grouping
    rotations: tuple[RotationRepair, ...]

    @property
    def changed_groups(self) -> int:
        return sum(r.changed_groups for r in self.rotations)

    @property
    def new_partner(self) -> tuple[str, ...]:
        return tuple(sorted({p for r in self.rotations for p in r.new_partner}))


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


# --- compiling people into the search's integer world --------------------------------------

Pair = tuple[int, int]


def _pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


class _Context:
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
                found.add(_pair(self.index[a], self.index[b]))
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
    context = _Context(people, spec, rules, weights)
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
    return _judge(context, rotations, before, language)


def evaluate(people: Sequence[Person], spec: GroupingSpec,
             rotations: Sequence[Sequence[Sequence[str]]], *,
             history: Iterable[Iterable[str]] = (), rules: Rules = Rules(),
             language: str = "en", weights: Weights = Weights(),
             numbers: Sequence[Sequence[int]] | None = None) -> Grouping:
    """Judge given groups (stored, or edited by a facilitator): score, explanations, violations.
    `numbers` are the groups' numbers as people know them (default 1, 2, ...), for messages."""
    context = _Context(people, spec, rules, weights)
    return _judge(context, [[list(g) for g in r] for r in rotations],
                  context.pairs_of(history), language, numbers)


# --- judging ------------------------------------------------------------------------------

def _judge(context: _Context, rotations: list[list[list[str]]], before: set[Pair],
           language: str, numbers: Sequence[Sequence[int]] | None = None) -> Grouping:
    met = set(before)
    judged = []
    for number, groups in enumerate(rotations, start=1):
        labels = list(numbers[number - 1]) if numbers else list(range(1, len(groups) + 1))
        judged.append(_judge_rotation(context, number, groups, met, language, labels))
        met |= context.pairs_of(groups)
    return Grouping(tuple(judged))


def _score(penalty: int, possible: int) -> float:
    return round(100.0 * (1 - penalty / possible), 2) if possible else 100.0


def _judge_rotation(context: _Context, number: int, groups: list[list[str]], met: set[Pair],
                    language: str, labels: list[int]) -> Rotation:
    known = [[context.index[m] for m in g if m in context.index] for g in groups]
    problem = context.problem(met, hard=False)
    penalties = [problem.group_penalty(g) for g in known]
    has_history = bool(met - context.together)
    possible = sum(_possible(context, len(g), has_history) for g in known)
    result = tuple(
        Group(tuple(sorted(g)), _explain(context, members, met, language), penalty)
        for g, members, penalty in zip(groups, known, penalties, strict=True)
    )
    penalty = sum(penalties)
    return Rotation(
        rotation=number, groups=result, score=_score(penalty, possible), penalty=penalty,
        possible=possible, unmet=tuple(_unmet(context, problem, known, met, language)),
        violations=tuple(_violations(context, number, groups, known, language, labels)),
    )


def _possible(context: _Context, size: int, has_history: bool) -> int:
    w, spec = context.weights, context.spec
    pairs = size * (size - 1) // 2
    total = pairs * (w.mix * len(spec.mix) + (w.fresh if has_history else 0))
    total += w.role * len(spec.roles)
    total += w.balance * sum(len(totals) for totals in context.balance_totals)
    return total


def _explain(context: _Context, members: list[int], met: set[Pair], language: str) -> str:
    spec, people = context.spec, context.people
    parts = []
    for attribute, values in zip(spec.mix, context.mix_values, strict=True):
        counts = Counter(values[m] for m in members if values[m])
        shared = sorted((v, c) for v, c in counts.items() if c > 1)
        if not shared:
            parts.append(text.say(language, "different", label=text.label(language, attribute)))
        for value, count in shared:
            key = "same_org" if attribute == "organisation" else "same_value"
            parts.append(text.say(language, key, count=count, value=value,
                                  label_one=text.label(language, attribute, plural=False)))
    ordered = sorted(members)
    known = [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:] if (a, b) in met]
    repeats = [pair for pair in known if pair not in context.together]
    if not known:
        parts.append(text.say(language, "first_time"))
    for a, b in repeats:
        parts.append(text.say(language, "met_before",
                              names=text.join(language, [people[a].label, people[b].label])))
    if spec.roles:
        present = {r for m in members for r in context.person_roles[m]}
        have = [r for r in spec.role_names if r in present]
        lack = [r for r in spec.role_names if r not in present]
        if have:
            parts.append(text.say(language, "has_roles", roles=text.join(language, have)))
        if lack:
            parts.append(text.say(language, "lacks_roles", roles=text.join(language, lack)))
    for index, attribute in enumerate(spec.balance):
        if not _balanced(context, index, members):
            parts.append(text.say(language, "uneven", label=text.label(language, attribute)))
    if any(_pair(a, b) in context.together for a in members for b in members if a < b):
        parts.append(text.say(language, "kept_together"))
    return "; ".join(parts)


def _balanced(context: _Context, attribute: int, members: list[int]) -> bool:
    values, n, size = context.balance_values[attribute], context.n, len(members)
    counts = Counter(values[m].casefold() for m in members if values[m])
    return all(total * size // n <= counts[v] <= -(-total * size // n)
               for v, total in context.balance_totals[attribute].items())


def _unmet(context: _Context, problem: Problem, groups: list[list[int]], met: set[Pair],
           language: str) -> Iterable[str]:
    spec, n, count = context.spec, context.n, len(groups)
    for attribute, values in zip(spec.mix, context.mix_values, strict=True):
        crowded = sum(1 for g in groups
                      if any(c > 1 for c in Counter(values[m] for m in g if values[m]).values()))
        if crowded:
            one = text.label(language, attribute, plural=False)
            message = text.say(language, "unmet_mix", count=crowded, groups=count, label_one=one)
            totals = Counter(v for v in values if v)
            big = [(v, c) for v, c in sorted(totals.items()) if c > count]
            notes = [text.say(language, "unavoidable", value=v, count=c, total=n, groups=count)
                     for v, c in big]
            yield "; ".join([message, *notes])
    repeats = sum(1 for g in groups for i, a in enumerate(sorted(g)) for b in sorted(g)[i + 1:]
                  if (a, b) in met and (a, b) not in context.together)
    if repeats:
        yield text.say(language, "unmet_fresh", count=repeats)
    for index, role in enumerate(spec.role_names):
        lacking = sum(1 for g in groups if not any(index in context.role_codes[m] for m in g))
        if lacking:
            holders = sum(1 for codes in context.role_codes if index in codes)
            yield text.say(language, "unmet_role", count=lacking, groups=count, role=role,
                           holders=holders)
    if spec.roles:
        without = sum(1 for roles in context.person_roles if not roles)
        if without:
            yield text.say(language, "no_role_match", count=without,
                           roles=text.join(language, list(spec.role_names)))
    for index, attribute in enumerate(spec.balance):
        uneven = sum(1 for g in groups if not _balanced(context, index, g))
        if uneven:
            yield text.say(language, "unmet_balance", count=uneven, groups=count,
                           label=text.label(language, attribute))


def _violations(context: _Context, number: int, groups: list[list[str]], known: list[list[int]],
                language: str, labels: list[int]) -> Iterable[Violation]:
    people, n = context.people, context.n

    def violation(kind: str, members: Sequence[int], **values) -> Violation:
        return Violation(number, kind, tuple(people[m].id for m in members),
                         text.say(language, f"v_{kind}", **values))

    for group in groups:
        for member in group:
            if member not in context.index:
                yield Violation(number, "unknown", (member,),
                                text.say(language, "v_unknown", name=member))
    home: dict[int, int] = {}
    for g, members in enumerate(known):
        for m in members:
            if m in home:
                yield violation("duplicate", [m], name=people[m].label)
            home.setdefault(m, g)
    for m in range(n):
        if m not in home:
            yield violation("ungrouped", [m], name=people[m].label)
    if n == 0:
        return
    low, high = size_bounds(n, context.spec)
    for g, members in enumerate(known):
        if not low <= len(members) <= high:
            yield violation("size", members, number=labels[g], size=len(members), low=low,
                            high=high)
    counts = allowed_counts(n, context.spec)
    if counts and len(known) not in counts:
        expected = (str(counts.start) if len(counts) == 1
                    else f"{counts.start}-{counts.stop - 1}")
        yield violation("count", [], count=len(known), total=n, expected=expected)
    for a, b in sorted(context.apart):
        if a in home and home[a] == home.get(b):
            yield violation("apart", [a, b], number=labels[home[a]],
                            names=text.join(language, [people[a].label, people[b].label]))
    for a, b in sorted(context.together):
        if a in home and b in home and home[a] != home[b]:
            yield violation("together", [a, b],
                            names=text.join(language, [people[a].label, people[b].label]))


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
    context = _Context(people, spec, rules, weights)
    n = context.n
    rng = random.Random(seed)
    before = context.pairs_of(history)
    present = [[[context.index[m] for m in g if m in context.index] for g in r] for r in previous]
    repaired: list[list[list[int]]] = []
    for r, groups in enumerate(present):
        others = repaired[:r] + present[r + 1:]
        met = before | {_pair(a, b) for rot in others for g in rot
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
    return Repair(_judge(context, rotations, before, language), stats)


def _repair_stats(context: _Context, number: int, old: list[list[int]],
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


def _repair_rotation(context: _Context, problem: Problem, previous: list[list[int]],
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

    def __init__(self, context: _Context, problem: Problem, previous: list[list[int]]):
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
            if any(_pair(a, b) in apart for a in members for b in members if a < b):
                self.touched.add(g)


__all__ = [
    "Grouping", "GroupingError", "GroupingSpec", "Group", "Person", "Repair", "Rotation",
    "RotationRepair", "Rules", "Violation", "Weights", "allowed_counts", "can_group",
    "evaluate", "group_sizes", "person_roles", "plan", "repair", "size_bounds",
]
