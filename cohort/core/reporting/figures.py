"""A question's figures and a survey's block of them, formatted for the report.

Shared by the chapters: the Kirkpatrick level a question is reported at, a closed question's
agree-share statement, mean and distribution, and a survey template's questions at one level.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..programme import (
    Likert5Question,
    MultipleChoiceQuestion,
    RatingQuestion,
    SingleChoiceQuestion,
)
from ..survey_results import QuestionResult, format_decimal, format_percent
from .facts import ReportFacts, SurveyFacts, TemplateFacts
from .report import ChoiceRow, QuestionFigure, Share, SurveyBlock, agree_share

LEVELS: tuple[str, ...] = ("reaction", "learning", "behaviour", "results")
# Where a question without a Kirkpatrick level is reported, by the kind of its survey.
DEFAULT_LEVEL = {"meeting": "reaction", "pre": "learning", "post": "learning",
                 "final": "reaction", "follow_up": "reaction"}


def survey_status(opens_at: datetime, closes_at: datetime, now: datetime) -> str:
    """not_open, open or closed at `now`: a survey with no answers yet says which."""
    if now < opens_at:
        return "not_open"
    return "open" if now < closes_at else "closed"


def level_of(question, survey_kind: str) -> str:
    return question.level or DEFAULT_LEVEL.get(survey_kind, "reaction")


def question_figure(result: QuestionResult, level: str, language: str) -> QuestionFigure:
    """A question's figures from `survey_results`, formatted for the report."""
    question = result.question
    base = dict(id=question.id, text=question.text, type=question.type, level=level,
                n=result.n, suppressed=result.suppressed)
    if result.suppressed:
        return QuestionFigure(**base)
    distribution = tuple(ChoiceRow(c.label, c.count, Share(
        c.count, result.n, c.percent, format_percent(c.count, result.n, language)))
        for c in result.distribution)
    mean = result.mean
    extra: dict = dict(distribution=distribution)
    if mean is not None:
        extra.update(mean=format_decimal(mean, language), mean_value=mean)
    if isinstance(question, RatingQuestion):
        extra["scale"] = "0\u201310"
    if isinstance(question, Likert5Question) and result.agree is not None:
        agree = result.agree
        extra.update(statement=agree.statement, agree=agree_share(agree.agree, agree.n, language),
                     statement_with_interval=agree.statement_with_interval, scale="1\u20135")
    return QuestionFigure(**base, **extra)


def is_closed(question) -> bool:
    return isinstance(question, Likert5Question | SingleChoiceQuestion | MultipleChoiceQuestion
                      | RatingQuestion)


def survey_block(template: TemplateFacts, level: str | None, language: str) -> SurveyBlock:
    """A template's closed questions at `level` (None: its agree statements at every level)."""
    statements, questions = [], []
    for result in template.summary.questions:
        question = result.question
        question_level = level_of(question, template.kind)
        if not is_closed(question) or (level is not None and question_level != level):
            continue
        figure = question_figure(result, question_level, language)
        if isinstance(question, Likert5Question):
            statements.append(figure)
        elif level is not None:
            questions.append(figure)
    return SurveyBlock(template.key, template.title, template.kind, template.mode,
                       template.summary.responses, template.summary.suppressed,
                       tuple(statements), tuple(questions))


def level_blocks(facts: ReportFacts, level: str, language: str) -> tuple[SurveyBlock, ...]:
    """Per survey template (not the meeting evaluations, which get their own table)."""
    blocks = [survey_block(t, level, language) for t in facts.templates if t.kind != "meeting"]
    # The follow-up gets its own table in the Behaviour chapter, beside the survey it is
    # compared with, with all its statements (behaviour and results: what the participants
    # still use and what changed for their staff), so no chapter repeats them as a block.
    if level in ("behaviour", "results"):
        blocks = [b for b in blocks if b.kind != "follow_up"]
    return tuple(b for b in blocks if not b.empty)


def copies_status(copies: list[SurveyFacts], now: datetime, zone: ZoneInfo
                  ) -> tuple[str, date | None]:
    """A survey template's status over its copies, for saying why it has no figures:
    "not_open" with the day the first opens, when none has opened and none was answered
    (nobody could answer yet: "fewer than k answered" would be false); "open" with the day
    the last closes, while a copy is open (its figures wait until it closes, publication
    rule 5, however many answered); "" otherwise, when the small-group rule speaks."""
    if any(c.opens_at <= now < c.closes_at for c in copies):
        return "open", max(c.closes_at for c in copies).astimezone(zone).date()
    if copies and all(now < c.opens_at and not c.answered for c in copies):
        return "not_open", min(c.opens_at for c in copies).astimezone(zone).date()
    return "", None


def template_statuses(facts: ReportFacts, now: datetime, zone: ZoneInfo
                      ) -> dict[str, tuple[str, date | None]]:
    """`copies_status` per survey template."""
    return {t.key: copies_status([s for s in facts.surveys if s.template_key == t.key],
                                 now, zone) for t in facts.templates}
