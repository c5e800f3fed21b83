"""What the report is made from: plain facts about one cohort, loaded by `services.reporting`.

The cohort and its meetings, who took part, each survey's figures (already computed by
`survey_results`, with the minimum group size applied), the pre/post self-assessment change,
attendance, and the evaluators' coded quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..attendance import AttendanceSummary
from ..survey_results import AreaChange, SurveySummary


@dataclass(frozen=True)
class CohortFacts:
    id: int
    title: str
    programme_id: str
    programme_title: str
    text_language: str  # the language the programme's own texts are written in
    timezone: str
    start_date: date
    description: str = ""
    audience: str = ""


@dataclass(frozen=True)
class MeetingFacts:
    key: str
    title: str
    kind: str
    format: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParticipantFacts:
    organisation: str
    role: str


@dataclass(frozen=True)
class SurveyFacts:
    """One survey as sent (a meeting evaluation is one survey per meeting) and its figures."""

    key: str
    template_key: str
    title: str
    kind: str
    mode: str
    meeting_key: str
    opens_at: datetime
    closes_at: datetime
    invited: int
    answered: int
    summary: SurveySummary | None  # meeting evaluations: this meeting's figures


@dataclass(frozen=True)
class TemplateFacts:
    """A survey template's figures over all its copies (all meeting evaluations together)."""

    key: str
    title: str
    kind: str
    mode: str
    summary: SurveySummary


@dataclass(frozen=True)
class PrePostFacts:
    """A self-assessment asked before and after (`compare_with`), with the per-area change."""

    question_id: str
    pre_key: str
    post_key: str
    paired: bool  # both identified: each person's change is known
    areas: tuple[AreaChange, ...]


@dataclass(frozen=True)
class QuoteFacts:
    text: str
    organisation: str
    group_label: str
    themes: tuple[str, ...]

    @property
    def attribution(self) -> str:
        return ", ".join(part for part in (self.organisation, self.group_label) if part)


@dataclass(frozen=True)
class BuddyRoundFacts:
    """One round of buddy check-ins (a buddy exchange task): its pairs, how many answered and
    how many met (`core.buddy_check_ins`)."""

    key: str
    title: str
    released_at: datetime
    pairs: int
    answered: int
    met: int


@dataclass(frozen=True)
class ReportFacts:
    """Everything the report is made from; loaded by `services.reporting`."""

    cohort: CohortFacts
    meetings: tuple[MeetingFacts, ...]
    participants: tuple[ParticipantFacts, ...]
    surveys: tuple[SurveyFacts, ...]
    templates: tuple[TemplateFacts, ...]
    pre_post: tuple[PrePostFacts, ...]
    attendance: AttendanceSummary | None
    quotes: tuple[QuoteFacts, ...]
    themes: tuple[str, ...]
    observations: int
    interviews: int
    min_group_size: int
    buddy_rounds: tuple[BuddyRoundFacts, ...] = ()
