"""What the report says: its chapters, tables and figures as plain data, ready to render.

Every figure is already formatted for the report's language (`Share.text`, means as text), so
the web view, the PDF and the comparison show the same numbers; `Suppressed` records what was
left out and why, for the method chapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..statistics import FEW_PAIRS, PairedChange, UnpairedChange, wilson_interval
from ..survey_results import (
    format_change,
    format_decimal,
    format_percent,
    format_percent_interval,
    percent,
    percent_of,
)
from .facts import CohortFacts

# Codes for `Suppressed.kind`; the template says each in words.
SUPPRESSED_SURVEY = "survey"
# figures over all copies of a survey, hidden while a hidden copy could be subtracted from them
SUPPRESSED_AGGREGATE = "aggregate"
# a paired change per person, hidden while the unpaired answers could be worked out from it
SUPPRESSED_PAIRED = "paired_change"
SUPPRESSED_QUESTION = "question"
SUPPRESSED_AREA = "area"
SUPPRESSED_TEXT = "free_text"
SUPPRESSED_ORGANISATIONS = "organisations"
SUPPRESSED_ROLES = "roles"
SUPPRESSED_PARTICIPANTS = "participants"
SUPPRESSED_ATTENDANCE = "attendance_meeting"
SUPPRESSED_DISTRIBUTION = "attendance_distribution"
SUPPRESSED_BUDDY = "buddy_round"  # a round of buddy check-ins with too few pairs answering
# a survey still open: its figures wait until it closes (publication rule 5), however many
# have answered; not "fewer than k", which would be false
SUPPRESSED_OPEN = "open"
# figures over all copies hidden while a copy is still open or to come (rule 2 and 5)
SUPPRESSED_AGGREGATE_OPEN = "aggregate_open"


class NotComparable(ValueError):
    """Two cohorts that cannot be set side by side (different programmes)."""


@dataclass(frozen=True)
class Share:
    """part of whole, rounded by the one rule and written for the report's language."""

    part: int
    whole: int
    percent: int
    text: str  # "90 %" (da, nb) or "90%" (en)
    # Agree-shares only: the Wilson 95 % interval, in whole percent and as text ("82–99 %").
    low: int | None = None
    high: int | None = None
    interval: str | None = None


def share(part: int, whole: int, language: str) -> Share | None:
    if whole <= 0:
        return None
    return Share(part, whole, percent(part, whole), format_percent(part, whole, language))


def agree_share(part: int, whole: int, language: str) -> Share | None:
    """A share of a sample (who agreed of those who answered), with its Wilson interval."""
    if whole <= 0:
        return None
    interval = wilson_interval(part, whole)
    return Share(part, whole, percent(part, whole), format_percent(part, whole, language),
                 percent_of(interval.low), percent_of(interval.high),
                 format_percent_interval(interval.low, interval.high, language))


_TO = {"da": "til", "nb": "til", "en": "to"}


def signed_interval(low: float, high: float, language: str) -> str:
    """A change's interval: "+0,4 til +1,1", "−0,2 to +0,5"."""
    return f"{signed_decimal(low, language)} {_TO.get(language, 'to')} " \
           f"{signed_decimal(high, language)}"


def signed_decimal(value: float | None, language: str) -> str | None:
    """A change as "+0,6", "−0,3" or "0,0" (`survey_results.format_change`, which the
    evaluator's page uses too)."""
    return format_change(value, language)


@dataclass(frozen=True)
class ChoiceRow:
    label: str
    count: int
    share: Share | None


@dataclass(frozen=True)
class QuestionFigure:
    """One closed question's figures: an agree-share statement, a mean, a distribution."""

    id: str
    text: str
    type: str
    level: str
    n: int
    suppressed: bool
    statement: str | None = None  # "28 af 31 (90 %) anvendte nye værktøjer ..."
    agree: Share | None = None
    mean: str | None = None  # formatted, e.g. "8,4"
    mean_value: float | None = None
    scale: str = ""  # "0–10"
    distribution: tuple[ChoiceRow, ...] = ()
    # The statement with the share's interval: "27 af 28 (96 %; 82–99 %) anvendte ..."
    statement_with_interval: str | None = None


@dataclass(frozen=True)
class SurveyBlock:
    """The questions of one survey template that belong to one level."""

    key: str
    title: str
    kind: str
    mode: str
    responses: int
    suppressed: bool
    statements: tuple[QuestionFigure, ...]  # likert agree-shares
    questions: tuple[QuestionFigure, ...]  # choices and ratings
    response: Share | None = None  # answered of invited, over the copies that have opened
    # "not_open": no copy has opened and none was answered (nobody could answer yet, so not
    # "fewer than k answered"); "open": a copy is open, its figures wait until it closes;
    # "" otherwise. With the day it opens (not_open) or the last copy closes (open).
    status: str = ""
    day: date | None = None

    @property
    def empty(self) -> bool:
        return not self.statements and not self.questions


@dataclass(frozen=True)
class GroupCount:
    label: str  # '' = the others together
    count: int
    share: Share | None
    folded: int = 0  # for '': how many organisations/roles are in it


@dataclass(frozen=True)
class MeetingRow:
    key: str
    title: str
    kind: str
    format: str
    day: date
    status: str  # held | planned | cancelled
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RateRow:
    key: str
    template_key: str
    title: str
    kind: str
    mode: str
    meeting_title: str
    invited: int
    answered: int
    share: Share | None
    status: str  # not_open | open | closed
    closes_on: date
    opens_on: date | None = None


@dataclass(frozen=True)
class AttendanceRow:
    key: str
    title: str
    day: date
    present: int
    marked: int
    share: Share | None  # None when suppressed


@dataclass(frozen=True)
class AttendanceFigures:
    meetings: tuple[AttendanceRow, ...]
    overall: Share | None
    distribution: tuple[ChoiceRow, ...] | None  # label: number of meetings attended
    distribution_base: int
    recorded: int


@dataclass(frozen=True)
class About:
    programme_title: str
    description: str
    audience: str
    cohort_title: str
    first_day: date | None
    last_day: date | None
    meetings: tuple[MeetingRow, ...]
    held: int
    planned: int
    cancelled: int
    participants: int
    organisations: tuple[GroupCount, ...] | None  # None: too few participants to show any
    roles: tuple[GroupCount, ...] | None
    response_rates: tuple[RateRow, ...]
    attendance: AttendanceFigures | None


@dataclass(frozen=True)
class MeetingColumn:
    key: str
    title: str
    day: date | None
    invited: int
    answered: int
    response: Share | None
    suppressed: bool
    status: str = ""  # not_open | open | closed: an open one waits until it closes
    closes_on: date | None = None


@dataclass(frozen=True)
class MatrixRow:
    question: QuestionFigure  # pooled over all meetings (the "all meetings" column)
    cells: tuple[QuestionFigure | None, ...]  # per meeting column, in order


@dataclass(frozen=True)
class MeetingMatrix:
    """A meeting-evaluation template: one column per evaluated meeting, one row per question."""

    template_key: str
    title: str
    columns: tuple[MeetingColumn, ...]
    rows: tuple[MatrixRow, ...]
    responses: int  # over all meetings


@dataclass(frozen=True)
class AreaFigure:
    id: str
    text: str
    pre_n: int
    post_n: int
    paired_n: int
    pre_mean: str | None
    post_mean: str | None
    pre_mean_value: float | None
    post_mean_value: float | None
    # The change the row shows (`survey_results.shown_change`, as on the evaluator's page):
    # paired, the mean of each person's own change; unpaired, the mean after minus before.
    change: str | None
    paired_change: str | None  # the same, for paired areas only (None unpaired or hidden)
    pre_high: Share | None  # share in the top two steps of the scale
    post_high: Share | None
    # The change's uncertainty (`core.statistics`): paired (identified surveys) it is the
    # t-interval of the mean individual change, with the share who improved and d_z;
    # unpaired (anonymous) it is Welch's interval of the difference of the means.
    interval_kind: str = ""  # "paired" | "unpaired" | "" (no interval)
    interval: str | None = None  # "+0,6 til +1,3"
    low_value: float | None = None
    high_value: float | None = None
    improved: Share | None = None  # paired: pairs whose own rating went up
    effect_size: str | None = None  # paired: d_z = mean change / sd of the changes
    effect_size_value: float | None = None
    df: str | None = None  # unpaired: Welch-Satterthwaite degrees of freedom, "27,9"
    few_pairs: bool = False  # paired with fewer than FEW_PAIRS pairs: a wide interval
    # The change (from unrounded answers) is not the difference of the rounded means shown
    # beside it; marked, with a note saying why (`ShownChange.off_shown_means`).
    off_shown_means: bool = False

    @property
    def suppressed(self) -> bool:
        return self.pre_mean is None and self.post_mean is None


def paired_figures(stats: PairedChange | None, language: str) -> dict:
    """AreaFigure's interval fields for a paired change."""
    if stats is None:
        return {}
    return dict(interval_kind="paired", interval=signed_interval(stats.low, stats.high, language),
                low_value=stats.low, high_value=stats.high,
                improved=share(stats.improved, stats.n, language),
                effect_size=None if stats.effect_size is None  # "−0,5" with a minus sign
                else format_decimal(stats.effect_size, language).replace("-", "\u2212"),
                effect_size_value=stats.effect_size, few_pairs=stats.n < FEW_PAIRS)


def unpaired_figures(stats: UnpairedChange | None, language: str) -> dict:
    """AreaFigure's interval fields for an unpaired (Welch) difference of means."""
    if stats is None:
        return {}
    return dict(interval_kind="unpaired",
                interval=signed_interval(stats.low, stats.high, language),
                low_value=stats.low, high_value=stats.high,
                df=None if stats.df is None else format_decimal(stats.df, language))


@dataclass(frozen=True)
class PrePostFigure:
    question_id: str
    text: str
    pre_title: str
    post_title: str
    pre_responses: int
    post_responses: int
    paired: bool
    scale: tuple[str, ...]
    areas: tuple[AreaFigure, ...]
    pre_response: Share | None = None  # answered of invited
    post_response: Share | None = None
    # Each side's status as a survey block's (`SurveyBlock.status`, `day`): a side without
    # figures says it has not opened or is still open, not "fewer than k answers".
    pre_status: str = ""
    post_status: str = ""
    pre_day: date | None = None
    post_day: date | None = None

    @property
    def few_pairs(self) -> bool:
        return any(a.few_pairs for a in self.areas)

    @property
    def off_shown_means(self) -> bool:
        return any(a.off_shown_means for a in self.areas)


@dataclass(frozen=True)
class FollowUpRow:
    question: QuestionFigure
    final: Share | None  # the same question in the survey it is compared with


@dataclass(frozen=True)
class FollowUp:
    key: str
    title: str
    compared_title: str | None
    responses: int
    rows: tuple[FollowUpRow, ...]
    response: Share | None = None  # answered of invited


@dataclass(frozen=True)
class QuoteRow:
    text: str
    attribution: str


@dataclass(frozen=True)
class Theme:
    name: str
    count: int
    quotes: tuple[QuoteRow, ...]


@dataclass(frozen=True)
class FreeText:
    survey_title: str
    question: str
    n: int
    texts: tuple[str, ...]  # a random selection of at most the limit


@dataclass(frozen=True)
class SourceRow:
    title: str
    kind: str
    mode: str
    copies: int
    opened: int  # copies that have opened; invited and answered count only these
    invited: int
    answered: int
    share: Share | None
    first_open: date
    last_close: date


@dataclass(frozen=True)
class Suppressed:
    kind: str  # one of the SUPPRESSED_* codes
    subject: str  # the survey, question, area or meeting concerned ('' for lists)
    n: int  # how many answers / people the hidden figure would have been about
    groups: int = 0  # organisations/roles: how many were counted together


@dataclass(frozen=True)
class Method:
    sources: tuple[SourceRow, ...]
    observations: int
    interviews: int
    quotes: int
    attendance_meetings: int
    min_group_size: int
    texts_per_question: int
    quotes_per_theme: int
    suppressed: tuple[Suppressed, ...]
    few_pairs: int = FEW_PAIRS  # below this many pairs the report calls an interval wide


@dataclass(frozen=True)
class Reaction:
    matrices: tuple[MeetingMatrix, ...]
    blocks: tuple[SurveyBlock, ...]


@dataclass(frozen=True)
class Learning:
    pre_post: tuple[PrePostFigure, ...]
    blocks: tuple[SurveyBlock, ...]


@dataclass(frozen=True)
class BuddyRound:
    """One round of buddy check-ins: the pairs who met of the pairs with an answer (with its
    Wilson interval), beside how many pairs there are. `met` is None when suppressed."""

    key: str
    title: str
    day: date  # the buddy exchange task's release, in the cohort's time zone
    pairs: int
    answered: int
    met: Share | None
    response: Share | None  # pairs with an answer of all pairs
    suppressed: bool


@dataclass(frozen=True)
class Behaviour:
    blocks: tuple[SurveyBlock, ...]
    follow_up: tuple[FollowUp, ...]
    buddy_rounds: tuple[BuddyRound, ...] = ()


@dataclass(frozen=True)
class Results:
    blocks: tuple[SurveyBlock, ...]
    themes: tuple[Theme, ...]
    free_text: tuple[FreeText, ...]


@dataclass(frozen=True)
class Report:
    language: str  # of headings and figures; statements keep the programme's language
    cohort: CohortFacts
    generated_at: datetime
    generated_on: date  # in the cohort's time zone
    min_group_size: int
    headline: SurveyBlock | None  # the final survey's agree-share statements, all levels
    preliminary: tuple[RateRow, ...]  # final/follow-up surveys still open or not yet open
    about: About
    reaction: Reaction
    learning: Learning
    behaviour: Behaviour
    results: Results
    method: Method
    warnings: tuple[str, ...] = field(default=())
    # False: the facilitators' report, with the figures but without the evaluators' coded
    # quotes and the free-text answers (results.themes and results.free_text are empty).
    words: bool = True
