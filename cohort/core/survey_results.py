"""Answers -> figures: n, distributions, means, agree-shares, free text, pre/post change.

**One rounding rule, used everywhere** (report, exports, web): percentages are rounded half
up to a whole percent (`percent(28, 31) == 90`, `percent(1, 8) == 13`, `percent(1, 200) == 1`)
and means half up to one decimal (`format_decimal(3.25) == "3,3"` in Danish). Use `percent`,
`format_percent`, `format_decimal` and `agree_statement` rather than formatting figures
anew, so the same answers never show as 90 % in one place and 91 % in another.

Interval bounds (`statistics`) follow the same rule: `percent_of` and
`format_percent_interval` ('82–99 %'). Each agree-share carries its Wilson interval and the
statement with it ('27 af 28 (96 %; 82–99 %) ...'); each pre/post area its paired t-interval
or, unpaired, Welch's.

Figures for fewer answers than the minimum group size are never computed into the result
(see `anonymity`); free-text answers appear only from that many answers on, shuffled. Which
figures may be shown is decided by `publication.decide` (the publication rule), for a survey's
copies, their aggregate (`summarise_copies`) and its breakdown (`summarise_by_group`) together.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .anonymity import checked_min_group_size
from .programme import (
    Likert5Question,
    MultipleChoiceQuestion,
    Question,
    RatingQuestion,
    SelfAssessmentQuestion,
    SingleChoiceQuestion,
    TextQuestion,
)
from .publication import decide, paired_change_shown
from .statistics import (
    Interval,
    PairedChange,
    UnpairedChange,
    paired_change,
    welch_difference,
    wilson_interval,
)
from .surveys import SurveySpec, agrees, choices

Answers = Mapping[str, Any]

# The sentence around a report phrase, in the survey's language (the phrase is written in it).
_STATEMENTS = {
    "da": ("{agree} af {n} ({pct}) {phrase}", "{agree} af {n} ({pct}) er enige i: »{text}«"),
    "nb": ("{agree} av {n} ({pct}) {phrase}", "{agree} av {n} ({pct}) er enige i: «{text}»"),
    "en": ("{agree} of {n} ({pct}) {phrase}", "{agree} of {n} ({pct}) agree: “{text}”"),
}


# --- the one rounding rule ------------------------------------------------------------------

def percent(part: int, whole: int) -> int:
    """part/whole as a whole percent, rounded half up, in exact integer arithmetic."""
    if whole <= 0:
        raise ValueError("a percentage of nothing is undefined")
    return (200 * part + whole) // (2 * whole)


def round_half_up(value: float, digits: int = 1) -> Decimal:
    """A mean rounded half up (3.25 -> 3.3), not to even as round() does."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def format_percent(part: int, whole: int, language: str) -> str:
    """'90 %' in Danish and Norwegian, '90%' in English."""
    value = percent(part, whole)
    return f"{value}%" if language == "en" else f"{value} %"


def percent_of(proportion: float) -> int:
    """A proportion (0-1, e.g. an interval's bound) as a whole percent, rounded half up."""
    return int(round_half_up(proportion * 100, 0))


def format_percent_interval(low: float, high: float, language: str) -> str:
    """An interval of proportions: '82–99 %' in Danish and Norwegian, '82–99%' in English."""
    text = f"{percent_of(low)}\u2013{percent_of(high)}"
    return f"{text}%" if language == "en" else f"{text} %"


def format_decimal(value: float, language: str, digits: int = 1) -> str:
    """'4,2' in Danish and Norwegian, '4.2' in English."""
    text = str(round_half_up(value, digits))
    return text if language == "en" else text.replace(".", ",")


def format_change(value: float | None, language: str) -> str | None:
    """A change as "+0,6", "−0,3" or "0,0" (rounded half up to one decimal, as means are;
    the sign is the rounded value's, so +0.04 is "0,0", never "+0,0")."""
    if value is None:
        return None
    rounded = round_half_up(value)
    text = format_decimal(abs(value), language)
    if rounded > 0:
        return f"+{text}"
    return f"\u2212{text}" if rounded < 0 else text


def agree_statement(
    agree: int, n: int, language: str, phrase: str | None = None, question_text: str = "",
    interval: tuple[float, float] | None = None,
) -> str:
    """'28 af 31 (90 %) anvendte nye værktøjer ...' (the template's report phrase), or with
    the question quoted when the template gives no phrase. With `interval` (the share's 95 %
    interval as proportions) it follows the share: '27 af 28 (96 %; 82–99 %) ...'."""
    with_phrase, with_text = _STATEMENTS.get(language, _STATEMENTS["en"])
    pct = format_percent(agree, n, language)
    if interval is not None:
        pct = f"{pct}; {format_percent_interval(*interval, language)}"
    if phrase:
        return with_phrase.format(agree=agree, n=n, pct=pct, phrase=phrase)
    return with_text.format(agree=agree, n=n, pct=pct, text=question_text)


# --- results --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    value: int
    label: str
    count: int
    percent: int  # of the n who answered the question


@dataclass(frozen=True)
class AgreeShare:
    agree: int
    n: int
    percent: int
    statement: str
    # The Wilson 95 % interval (proportions) and the statement with it after the share.
    interval: Interval | None = None
    statement_with_interval: str | None = None


@dataclass(frozen=True)
class AreaResult:
    area_id: str
    text: str
    n: int
    suppressed: bool
    distribution: tuple[Count, ...] = ()
    mean: float | None = None


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    n: int  # how many answered this question
    suppressed: bool
    distribution: tuple[Count, ...] = ()
    mean: float | None = None
    agree: AgreeShare | None = None
    areas: tuple[AreaResult, ...] = ()
    texts: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.question.id


@dataclass(frozen=True)
class SurveySummary:
    spec: SurveySpec
    responses: int
    min_group_size: int
    questions: tuple[QuestionResult, ...]
    # A survey still open: no figures until it closes (publication rule 5).
    withheld: bool = False

    @property
    def suppressed(self) -> bool:
        return self.withheld or self.responses < self.min_group_size

    def by_level(self) -> dict[str | None, list[QuestionResult]]:
        """Question results grouped by Kirkpatrick level, in template order."""
        levels: dict[str | None, list[QuestionResult]] = {}
        for result in self.questions:
            levels.setdefault(result.question.level, []).append(result)
        return levels

    def agree_statements(self) -> list[str]:
        return [q.agree.statement for q in self.questions if q.agree is not None]


def summarise(
    spec: SurveySpec,
    responses: Sequence[Answers],
    min_group_size: int | None = None,
    rng: random.Random | None = None,
    withheld: bool = False,
) -> SurveySummary:
    """Every question's figures over all responses; small groups get no figures, and a
    `withheld` survey (still open, publication rule 5) none at all."""
    k = checked_min_group_size(min_group_size)
    rng = rng or random.Random()
    results = tuple(
        _question_result(spec, q, [r[q.id] for r in responses if q.id in r], k, rng,
                         hidden=withheld)
        for q in spec.questions
    )
    return SurveySummary(spec, len(responses), k, results, withheld)


def summarise_copies(
    spec: SurveySpec,
    copies: Mapping[str, Sequence[Answers]],
    min_group_size: int | None = None,
    rng: random.Random | None = None,
    open_copies: Collection[str] = (),
    settled: bool = True,
) -> SurveySummary:
    """Every question's figures over all copies of a repeated survey together (all meeting
    evaluations), each shown only where the publication rule allows: not while a hidden
    copy could be worked out as the aggregate minus the copies shown, nor (while a copy is
    open, `open_copies`, or still to close, not `settled`) as the difference between two
    looks. Each copy's own figures
    are `summarise` of its answers. For one copy this is `summarise`."""
    k = checked_min_group_size(min_group_size)
    rng = rng or random.Random()

    def aggregate_shown(counts: Mapping[str, int]) -> bool:
        return decide(counts, k, open_copies=open_copies, settled=settled).aggregate

    results = []
    for question in spec.questions:
        per_copy = {c: [r[question.id] for r in rs if question.id in r]
                    for c, rs in copies.items()}
        values = [v for found in per_copy.values() for v in found]
        hidden = not aggregate_shown({c: len(v) for c, v in per_copy.items()})
        if isinstance(question, SelfAssessmentQuestion):
            areas = tuple(_area_result(
                spec, question, area.id, area.text,
                [v[area.id] for v in values if area.id in v], k,
                not aggregate_shown({c: sum(1 for v in found if area.id in v)
                                     for c, found in per_copy.items()}))
                for area in question.areas)
            results.append(QuestionResult(
                question, len(values), not _shown(len(values), k) or hidden, areas=areas))
            continue
        results.append(_question_result(spec, question, values, k, rng, hidden=hidden))
    responses = sum(len(rs) for rs in copies.values())
    withheld = len(copies) == 1 and set(copies) <= set(open_copies)
    return SurveySummary(spec, responses, k, tuple(results), withheld)


def _shown(n: int, k: int) -> bool:
    """One survey's figure from n answers (the publication rule for a single copy)."""
    return bool(decide({"": n}, k).copies)


def _question_result(
    spec: SurveySpec, question: Question, values: list, k: int, rng: random.Random,
    hidden: bool = False, with_texts: bool = True,
) -> QuestionResult:
    n = len(values)
    if isinstance(question, SelfAssessmentQuestion):
        areas = tuple(_area_result(spec, question, area.id, area.text,
                                   [v[area.id] for v in values if area.id in v], k, hidden)
                      for area in question.areas)
        return QuestionResult(question, n, not _shown(n, k) or hidden, areas=areas)
    if not _shown(n, k) or hidden:
        return QuestionResult(question, n, True)
    if isinstance(question, TextQuestion):
        texts = list(values) if with_texts else []
        rng.shuffle(texts)
        return QuestionResult(question, n, False, texts=tuple(texts))
    distribution = _distribution(question, values, spec.language)
    mean = None
    if isinstance(question, Likert5Question | RatingQuestion):
        mean = sum(values) / n
    agree = None
    if isinstance(question, Likert5Question):
        agreeing = sum(1 for v in values if agrees(question, v))
        interval = wilson_interval(agreeing, n)
        agree = AgreeShare(agreeing, n, percent(agreeing, n), agree_statement(
            agreeing, n, spec.language, question.report, question.text), interval,
            agree_statement(agreeing, n, spec.language, question.report, question.text,
                            (interval.low, interval.high)))
    return QuestionResult(question, n, False, distribution, mean, agree)


def _distribution(question: Question, values: list, language: str) -> tuple[Count, ...]:
    n = len(values)
    if isinstance(question, MultipleChoiceQuestion):
        counts = Counter(option for picked in values for option in picked)
    elif isinstance(question, Likert5Question | SingleChoiceQuestion | RatingQuestion):
        counts = Counter(values)
    else:
        return ()
    return tuple(Count(c.value, c.label, counts[c.value], percent(counts[c.value], n))
                 for c in choices(question, language))


def _area_result(
    spec: SurveySpec, question: SelfAssessmentQuestion, area_id: str, text: str, values: list,
    k: int, hidden: bool,
) -> AreaResult:
    n = len(values)
    if not _shown(n, k) or hidden:
        return AreaResult(area_id, text, n, True)
    counts = Counter(values)
    distribution = tuple(Count(c.value, c.label, counts[c.value], percent(counts[c.value], n))
                         for c in choices(question, spec.language))
    return AreaResult(area_id, text, n, False, distribution, sum(values) / n)


# --- breakdowns -----------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupResult:
    label: str  # '' is "other": values too rare to keep
    responses: int | None  # None when the count itself is suppressed
    questions: tuple[QuestionResult, ...]


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    min_group_size: int
    groups: tuple[GroupResult, ...]


def summarise_by_group(
    spec: SurveySpec,
    grouped: Mapping[str, Sequence[Answers]],
    dimension: str,
    min_group_size: int | None = None,
    still_open: bool = False,
) -> Breakdown:
    """Figures per group (organisation, role, ...) as the publication rule allows.

    The rule is applied per question (and per self-assessment area) on how many in each
    group answered it: a group shows from k answers, and a lone hidden group takes the
    smallest shown ones along until the hidden ones hold k, so no hidden group can be
    worked out from the survey's own figures minus the shown groups. Free text is never
    broken down. Which attribute a survey may be broken down by at all is the caller's
    (`publication.published_dimension`): one per survey. A survey `still_open` shows no
    group (rule 5: figures appear when a survey closes).
    """
    k = checked_min_group_size(min_group_size)
    labels = sorted(grouped, key=lambda g: (g == "", g))

    def shown(sizes: dict[str, int]) -> frozenset[str]:
        decision = decide({"": sum(sizes.values())}, k, [(dimension, {"": sizes})],
                          open_copies=("",) if still_open else ())
        return decision.groups.get("", frozenset())

    shown_count = shown({g: len(grouped[g]) for g in labels})
    per_group: dict[str, list[QuestionResult]] = {g: [] for g in labels}
    for question in spec.questions:
        values = {g: [r[question.id] for r in grouped[g] if question.id in r] for g in labels}
        visible = shown({g: len(v) for g, v in values.items()})
        if isinstance(question, SelfAssessmentQuestion):
            visible_areas = {area.id: shown(
                {g: sum(1 for v in values[g] if area.id in v) for g in labels})
                for area in question.areas}
            for g in labels:
                areas = tuple(_area_result(
                    spec, question, a.id, a.text, [v[a.id] for v in values[g] if a.id in v], k,
                    g not in visible_areas[a.id]) for a in question.areas)
                per_group[g].append(QuestionResult(question, len(values[g]), g not in visible,
                                                   areas=areas))
            continue
        for g in labels:
            per_group[g].append(_question_result(spec, question, values[g], k, random.Random(0),
                                                 hidden=g not in visible, with_texts=False))
    groups = tuple(GroupResult(g, len(grouped[g]) if g in shown_count else None,
                               tuple(per_group[g])) for g in labels)
    return Breakdown(dimension, k, groups)


# --- pre/post -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AreaChange:
    area_id: str
    text: str
    pre_n: int
    pre_mean: float | None
    post_n: int
    post_mean: float | None
    paired_n: int
    paired_change: float | None  # mean of each person's post minus pre (identified surveys)
    # Uncertainty (`statistics`), only where the means themselves are shown: the paired
    # change's t-interval, share improved and d_z; the unpaired difference with Welch's
    # interval (for anonymous surveys, which cannot be paired).
    paired_stats: PairedChange | None = None
    unpaired_stats: UnpairedChange | None = None

    @property
    def change(self) -> float | None:
        if self.pre_mean is None or self.post_mean is None:
            return None
        return self.post_mean - self.pre_mean


@dataclass(frozen=True)
class ShownChange:
    """The one change an area's row shows, on the evaluator's page and in the report."""

    kind: str  # "paired": the mean of each person's own change | "unpaired": after - before
    value: float  # from the unrounded answers (never from the rounded means)
    n: int  # paired: the pairs it is the mean over; unpaired: 0
    # The change as shown (rounded to one decimal) is not the difference of the means as
    # shown (each rounded): 3.24 -> 3.36 shows as "3.2 -> 3.4" and "+0.1", and a paired
    # change leaves out whoever answered only once. The page and the report say why.
    off_shown_means: bool


def shown_change(area: AreaChange, paired: bool) -> ShownChange | None:
    """The change an area's row publishes: one rule for the evaluator's page, the report and
    the comparison of two reports, so that no two of them disagree.

    Paired (both surveys identified): the mean of each person's own change, where publication
    rule 4 lets it be shown, else no change at all. Not the difference of the means instead:
    over different people (who answered only once are in the means, not in the pairs) it is
    not the change the paired table promises, and the page showing it where the report shows
    "–" made the two disagree. (It reveals nothing the two means do not; the report's stricter
    presentation wins all the same.) Unpaired (anonymous): the difference of the means,
    where both are shown."""
    if paired:
        if area.paired_change is None:
            return None
        kind, value, n = "paired", area.paired_change, area.paired_n
    else:
        if area.change is None:
            return None
        kind, value, n = "unpaired", area.change, 0
    off = False
    if area.pre_mean is not None and area.post_mean is not None:
        rounded = round_half_up(abs(value)).copy_sign(Decimal(1 if value >= 0 else -1))
        off = round_half_up(area.post_mean) - round_half_up(area.pre_mean) != rounded
    return ShownChange(kind, value, n, off)


def compare_self_assessment(
    question: SelfAssessmentQuestion,
    pre: Sequence[Answers],
    post: Sequence[Answers],
    pairs: Sequence[tuple[Answers, Answers]] = (),
    min_group_size: int | None = None,
    withheld: tuple[bool, bool] = (False, False),
) -> tuple[AreaChange, ...]:
    """Per area: mean before, mean after, and (when paired) the mean individual change.

    `withheld`: whether the figures before, and after, are withheld (a survey still open,
    publication rule 5); a change needs both sides."""
    k = checked_min_group_size(min_group_size)
    if any(withheld):
        pairs = ()

    def ratings(answers: Sequence[Answers], area: str) -> list[int]:
        return [a[question.id][area] for a in answers
                if area in (a.get(question.id) or {})]

    def mean(values: list, side: int) -> float | None:
        if withheld[side]:
            return None
        return sum(values) / len(values) if _shown(len(values), k) else None

    changes = []
    for area in question.areas:
        before, after = ratings(pre, area.id), ratings(post, area.id)
        diffs = [b[question.id][area.id] - a[question.id][area.id] for a, b in pairs
                 if area.id in (a.get(question.id) or {}) and area.id in (b.get(question.id) or {})]
        # The paired change and its interval follow the publication rule (rule 4); the
        # unpaired difference only needs both means to be shown.
        paired_shown = paired_change_shown(len(before), len(after), len(diffs), k)
        shown = len(before) >= k and len(after) >= k and not any(withheld)
        changes.append(AreaChange(area.id, area.text, len(before), mean(before, 0), len(after),
                                  mean(after, 1), len(diffs),
                                  sum(diffs) / len(diffs) if paired_shown else None,
                                  paired_change(diffs) if paired_shown else None,
                                  welch_difference(before, after) if shown else None))
    return tuple(changes)
