"""Judging groups, new or given: score, per-group explanation, unmet goals, broken hard rules.

Every check of the module docstring's objective is counted here; what a facilitator reads is
worded in the cohort's language by `text`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from . import text
from .context import Context, Pair, ordered_pair
from .costs import Problem
from .result import Group, Grouping, Rotation, Violation, score_of
from .spec import GroupingSpec, Person, Rules, Weights, allowed_counts, size_bounds


def evaluate(people: Sequence[Person], spec: GroupingSpec,
             rotations: Sequence[Sequence[Sequence[str]]], *,
             history: Iterable[Iterable[str]] = (), rules: Rules = Rules(),
             language: str = "en", weights: Weights = Weights(),
             numbers: Sequence[Sequence[int]] | None = None) -> Grouping:
    """Judge given groups (stored, or edited by a facilitator): score, explanations, violations.
    `numbers` are the groups' numbers as people know them (default 1, 2, ...), for messages."""
    context = Context(people, spec, rules, weights)
    return judge(context, [[list(g) for g in r] for r in rotations],
                  context.pairs_of(history), language, numbers)


# --- judging ------------------------------------------------------------------------------

def judge(context: Context, rotations: list[list[list[str]]], before: set[Pair],
           language: str, numbers: Sequence[Sequence[int]] | None = None) -> Grouping:
    met = set(before)
    judged = []
    for number, groups in enumerate(rotations, start=1):
        labels = list(numbers[number - 1]) if numbers else list(range(1, len(groups) + 1))
        judged.append(_judge_rotation(context, number, groups, met, language, labels))
        met |= context.pairs_of(groups)
    return Grouping(tuple(judged))


def _judge_rotation(context: Context, number: int, groups: list[list[str]], met: set[Pair],
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
        rotation=number, groups=result, score=score_of(penalty, possible), penalty=penalty,
        possible=possible, unmet=tuple(_unmet(context, problem, known, met, language)),
        violations=tuple(_violations(context, number, groups, known, language, labels)),
    )


def _possible(context: Context, size: int, has_history: bool) -> int:
    w, spec = context.weights, context.spec
    pairs = size * (size - 1) // 2
    total = pairs * (w.mix * len(spec.mix) + (w.fresh if has_history else 0))
    total += w.role * len(spec.roles)
    total += w.balance * sum(len(totals) for totals in context.balance_totals)
    return total


def _explain(context: Context, members: list[int], met: set[Pair], language: str) -> str:
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
    if any(ordered_pair(a, b) in context.together for a in members for b in members if a < b):
        parts.append(text.say(language, "kept_together"))
    return "; ".join(parts)


def _balanced(context: Context, attribute: int, members: list[int]) -> bool:
    values, n, size = context.balance_values[attribute], context.n, len(members)
    counts = Counter(values[m].casefold() for m in members if values[m])
    return all(total * size // n <= counts[v] <= -(-total * size // n)
               for v, total in context.balance_totals[attribute].items())


def _unmet(context: Context, problem: Problem, groups: list[list[int]], met: set[Pair],
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


def _violations(context: Context, number: int, groups: list[list[str]], known: list[list[int]],
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
