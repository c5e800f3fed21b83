"""The publication rule: which survey figures may be shown, decided for all of them at once.

A *cell* is a set of answers that one published figure is computed from: one copy of a
survey (one meeting's evaluation), the aggregate over all copies of a repeated survey (all
meeting evaluations together), or one group of a breakdown of a copy (an organisation, a
role). Suppressing each cell on its own is not enough: an insider who sees the aggregate over
seven answers and the kick-off's six can subtract them and read the one answer given at
workshop 1, even though workshop 1's own page is hidden; and by-role minus by-organisation
isolates the one specialist of a municipality. So `decide` is given every cell one survey
publishes, for one question, and decides them together. Every figure derived from survey
answers (the evaluator's pages, the report on the web and in PDF, the CLI summary, the
responses export's choice of surveys and group labels) is decided here.

**The rule, in plain words** (k is the minimum group size):

1. A copy of a survey is shown once it has closed (rule 5), when at least k answered it.
2. The figures over all copies are shown only when no copy is hidden (a copy still open
   with answers counts as hidden), or when every copy has closed and the hidden copies
   together hold at least k answers (which takes at least two of them, as each holds fewer
   than k).
3. A copy is broken down by at most one attribute: the one its template names (`breakdown`),
   else organisation. The other is never shown. Groups are shown only for a shown copy,
   each only from k answers; if the hidden groups together hold fewer than k (but some), the
   smallest shown groups are hidden too until they hold at least k.

5. **No figure moves one answer at a time: a survey's figures appear when it closes**
   (`decide`'s `open_copies`). A figure seen twice, with 6 answers and later with 7, gives
   the seventh answer as the difference, and an identified survey's list of who has not
   answered yet (shown to those who send reminders) says whose it is. Releasing an open
   survey's figures in steps of k does not end well either: what is left when it closes is
   fewer than k, and must then be published as such a step or never. So while a copy is
   open only its response count is shown; its figures, its breakdown and its part of the
   aggregate appear once, when nobody can answer any more, and do not change afterwards.
   Until every copy has closed (one open, or one still to open: `settled`), the aggregate is
   shown only when no copy is hidden, so it is the sum of shown copies and adds nothing; the
   hidden copies are counted in only once every copy has closed, when the set of hidden
   answers can no longer grow (rule 2). (Rule 4 is below, with its proof.)

**Why nothing small can be worked out.** The published cells form a *laminar* family: any
two are disjoint or one contains the other (copies are disjoint parts of the aggregate,
groups of one attribute are disjoint parts of their copy; rule 3's "one attribute" is what
keeps it laminar: two attributes cross, and crossing cells are what attack 6 subtracts).
Whatever an insider computes from published figures is a combination Σ aᵢ·cellᵢ of them;
it weighs each answer by the sum of the coefficients of the published cells containing it.
In a laminar family the published cells containing an answer form a chain, so two answers
with the same innermost published cell get the same weight. Call a published cell's
*residue* its answers that are in no smaller published cell. Every combination weighs each
residue uniformly, and any residue can be isolated (the cell minus its largest published
parts). Hence the smallest set of answers any combination can single out is the smallest
non-empty residue, and the rule holds iff every published cell's residue is empty or holds
at least k answers. Rules 1–3 give exactly that:
- a shown copy without a shown breakdown: its residue is itself, ≥ k (rule 1);
- a shown copy with a shown breakdown: its residue is its hidden groups, 0 or ≥ k (rule 3),
  and each shown group's residue is itself, ≥ k;
- the aggregate: its residue is the hidden copies, 0 or ≥ k (rule 2). A hidden copy's
  groups are never shown, so they do not split this residue;
- answers in no shown cell get weight 0 in every combination.
Differences of counts, of distributions and of means times n are all such combinations,
so no group of 1 to k − 1 answers can be recovered from what is shown. Empty cells say
nothing and are never a reason to hide anything.

4. A paired change (each person's answer after minus before, identified pre/post surveys) is
   shown only when the answers that are not paired (before without after, and after without
   before) are none or at least k together: `paired_change_shown`. Otherwise the mean after
   minus the paired change minus the mean before (times their n) leaves exactly the unpaired
   answers. Proof: with P the sum over everyone before, Q over everyone after and D the sum of
   the paired changes, a·P + b·Q + c·D weighs an unpaired before-answer a, an unpaired
   after-answer b, a paired person's before-answer a − c and after-answer b + c; to leave the
   paired people out takes c = a and b = −a, which weighs every unpaired answer alike, so the
   smallest group singled out is all the unpaired answers (or a cell itself, ≥ k by rule 1).

The rule is applied per question (and per self-assessment area), on how many answered it,
because an optional question can be small where the survey is not.

Over time, each copy is published once, in its final state, and the aggregate while a copy
is open is a sum of shown copies, so the cells published at all moments together are the
cells of the final state plus sums of them: the proof above covers them. Paper answers
imported after a survey has closed change a published figure by the batch, so the service
takes them only in batches of at least k (a difference of k or more answers is a group of
its own).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from .anonymity import suppressed_groups

K = TypeVar("K", bound=Hashable)

# The attribute shown for a survey whose template names none (identified surveys).
DEFAULT_DIMENSION = "organisation"


@dataclass(frozen=True)
class Decision:
    """What may be shown of one survey's figures for one question."""

    aggregate: bool  # the figures over all copies together
    copies: frozenset  # the copies whose own figures are shown
    dimension: str | None = None  # the one breakdown shown (None: no breakdown)
    groups: Mapping = field(default_factory=dict)  # copy -> its groups that are shown

    def shows_group(self, copy: Hashable, dimension: str, group: Hashable) -> bool:
        return dimension == self.dimension and group in self.groups.get(copy, frozenset())


def published_dimension(breakdown: str | None, dimensions: Sequence[str]) -> str | None:
    """The one breakdown a survey may show: the attribute its template names, else
    organisation when it may be broken down by that (identified surveys), else none."""
    if breakdown in dimensions:
        return breakdown
    return DEFAULT_DIMENSION if DEFAULT_DIMENSION in dimensions else None


def pool_released(waiting: int, k: int, closed: bool) -> bool:
    """Whether an anonymous survey's `waiting` pooled answers are stored now: from k waiting
    on, or everything once the survey has closed (nothing is lost). This is about what the
    database shows (answers stored in batches of at least k, in random order); the figures
    wait for the close anyway (rule 5), so the last, smaller batch is never a visible step."""
    return waiting > 0 and (waiting >= k or closed)


def paired_change_shown(before: int, after: int, paired: int, k: int) -> bool:
    """Rule 4: a mean of paired changes over `paired` people, next to the mean over the
    `before` answers and the mean over the `after` answers (each shown by rule 1)."""
    if not 0 <= paired <= min(before, after):
        raise ValueError("the paired answers must be among the answers before and after")
    unpaired = before + after - 2 * paired
    return paired >= k and (unpaired == 0 or unpaired >= k)


def decide(
    copies: Mapping[K, int],
    k: int,
    breakdowns: Sequence[tuple[str, Mapping[K, Mapping[Hashable, int]]]] = (),
    open_copies: Collection[K] = (),
    settled: bool = True,
) -> Decision:
    """Which of one survey's cells may be shown (see the module's rule and proof).

    `copies`: answers per copy (a survey that is not repeated has one copy). `breakdowns`:
    per attribute, in the order the template defines them (the first is the one shown),
    answers per group for each copy. Counts must be of the answers to one question.
    `open_copies`: the copies open for answers now (rule 5): never shown, and their
    answers count as hidden. `settled`: every copy has closed (none is open or still to
    open), so the hidden answers can no longer grow (rule 2).
    """
    if k < 1:
        raise ValueError("the minimum group size must be positive")
    if any(n < 0 for n in copies.values()):
        raise ValueError("a count of answers cannot be negative")
    still_open = frozenset(open_copies) & frozenset(copies)
    shown = frozenset(c for c, n in copies.items() if n >= k and c not in still_open)
    hidden_answers = sum(n for c, n in copies.items() if c not in shown)
    aggregate = hidden_answers == 0 or (hidden_answers >= k and settled and not still_open)
    if not breakdowns:
        return Decision(aggregate, shown)
    dimension, per_copy = breakdowns[0]
    groups = {}
    for copy in shown:
        sizes = dict(per_copy.get(copy, {}))
        if sum(sizes.values()) != copies[copy]:
            raise ValueError(f"the groups of {copy!r} by {dimension} do not add up to its "
                             "answers")
        hidden = suppressed_groups(sizes, k)
        groups[copy] = frozenset(g for g, n in sizes.items() if g not in hidden and n > 0)
    return Decision(aggregate, shown, dimension, groups)
