"""Survey figures: results per survey and over a template's copies, breakdowns, pre/post.

Every figure here goes through the publication rule (`core.publication`, applied by
`core.survey_results`): all of a survey's cells are decided together, and what a figure may
show depends on whether its survey has closed (rule 5: figures must not move one answer at a
time). So every function takes `now` (the web passes `common.now()`; without it the clock is
read). Split from `surveys` (answering and the answer pool; response rates are in
`survey_responses`, paper answers in `paper_answers`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from ..core.programme import SelfAssessmentQuestion
from ..core.publication import published_dimension
from ..core.survey_results import (
    AreaChange,
    Breakdown,
    ShownChange,
    SurveySummary,
    compare_self_assessment,
    shown_change,
    summarise,
    summarise_by_group,
    summarise_copies,
)
from ..core.surveys import SurveySpec
from ..models import AnonymousResponse, IdentifiedResponse, Survey, utcnow
from ._lookup import NotFound
from .surveys import (
    BREAKDOWN_DIMENSIONS,
    _programme,
    _survey,
    list_surveys,
    min_group_size_of,
    survey_spec_of,
    survey_state,
)


def response_answers(session: Session, survey: Survey) -> list[dict]:
    """All stored answers of one survey (anonymous ones in random-id order, not by time).

    Anonymous answers still waiting in the pool are not included (see move_pooled_answers)."""
    if survey.mode == "anonymous":
        return list(session.scalars(select(AnonymousResponse.answers).where(
            AnonymousResponse.survey_id == survey.id).order_by(AnonymousResponse.id)))
    return list(session.scalars(select(IdentifiedResponse.answers).where(
        IdentifiedResponse.survey_id == survey.id).order_by(IdentifiedResponse.id)))


def withheld(survey: Survey, now: datetime) -> bool:
    """Whether a survey's figures wait until it closes (publication rule 5): figures that
    move with each answer give that answer as the difference between two looks, and an
    identified survey's list of who has not answered yet says whose it is.

    Only while it is open: before it opens nobody can answer it (answers there come from a
    paper import or the demo, which the rule does not cover), so nothing moves."""
    return survey_state(survey, now) == "open"


def survey_results(
    session: Session, survey_id: int, min_group_size: int | None = None,
    rng: random.Random | None = None, now: datetime | None = None,
) -> SurveySummary:
    """Figures per question for one survey (one meeting's evaluation, say)."""
    survey = _survey(session, survey_id)
    return summarise(survey_spec_of(session, survey), response_answers(session, survey),
                     min_group_size_of(session, survey.cohort_id, min_group_size), rng,
                     withheld=withheld(survey, now or utcnow()))


def template_results(
    session: Session, cohort_id: int, template_key: str, min_group_size: int | None = None,
    rng: random.Random | None = None, now: datetime | None = None,
) -> SurveySummary:
    """Figures over every copy of a survey template (all meeting evaluations together), shown
    only where the publication rule allows (`core.publication`): not while a copy hidden for
    too few answers could be worked out as these figures minus the copies shown, or as the
    difference between two looks while a copy is open."""
    surveys = list_surveys(session, cohort_id)
    surveys = [s for s in surveys if s.template_key == template_key]
    if not surveys:
        raise NotFound(f"cohort {cohort_id} has no survey from template '{template_key}'")
    copies = {s.key: response_answers(session, s) for s in surveys}
    moment = now or utcnow()
    return summarise_copies(survey_spec_of(session, surveys[0]), copies,
                            min_group_size_of(session, cohort_id, min_group_size), rng,
                            open_copies=open_copies(surveys, moment),
                            settled=settled(surveys, moment))


def settled(surveys: list[Survey], now: datetime) -> bool:
    """Whether every copy of a template has closed (publication rule 2: only then may the
    aggregate count hidden copies in, as their answers can no longer grow)."""
    return all(survey_state(s, now) == "closed" for s in surveys)


def open_copies(surveys: list[Survey], now: datetime) -> frozenset[str]:
    """The keys of the surveys that have not closed at `now` (publication rule 5)."""
    return frozenset(s.key for s in surveys if withheld(s, now))


def breakdown_dimensions(spec: SurveySpec) -> tuple[str, ...]:
    """What a survey may be broken down by: at most one attribute (the publication rule),
    as two attributes can be subtracted from each other. Anonymous surveys: the one their
    template keeps; identified ones: the one their template names, else organisation."""
    if spec.anonymous:
        return (spec.breakdown,) if spec.breakdown in BREAKDOWN_DIMENSIONS else ()
    dimension = published_dimension(spec.breakdown, BREAKDOWN_DIMENSIONS)
    return (dimension,) if dimension else ()


def survey_breakdown(
    session: Session, survey_id: int, dimension: str, min_group_size: int | None = None,
    now: datetime | None = None,
) -> Breakdown:
    """Figures per organisation or role, with small groups (and a second one) suppressed.

    A survey can only be broken down by its one attribute (`breakdown_dimensions`), and only
    once it has closed (publication rule 5): before, every group is hidden.
    """
    if dimension not in BREAKDOWN_DIMENSIONS:
        raise ValueError(f"'{dimension}' is not one of {', '.join(BREAKDOWN_DIMENSIONS)}")
    survey = _survey(session, survey_id)
    spec = survey_spec_of(session, survey)
    k = min_group_size_of(session, survey.cohort_id, min_group_size)
    grouped: dict[str, list[dict]] = {}
    if dimension not in breakdown_dimensions(spec):
        allowed = ", ".join(breakdown_dimensions(spec)) or "none"
        raise ValueError(f"survey '{survey.key}' is not broken down by {dimension}: only "
                         f"one attribute per survey is shown, so that one cannot be "
                         f"subtracted from the other (breakdown: {allowed})")
    if spec.anonymous:
        rows = session.execute(select(AnonymousResponse.breakdown_value,
                                      AnonymousResponse.answers)
                               .where(AnonymousResponse.survey_id == survey.id)
                               .order_by(AnonymousResponse.id)).all()
    else:  # the values the participants had when they answered (models/surveys.py)
        rows = session.execute(
            select(getattr(IdentifiedResponse, dimension), IdentifiedResponse.answers)
            .where(IdentifiedResponse.survey_id == survey.id)
            .order_by(IdentifiedResponse.id)).all()
    for value, answers in rows:
        grouped.setdefault((value or "").strip(), []).append(answers)
    return summarise_by_group(spec, grouped, dimension, k, withheld(survey, now or utcnow()))


@dataclass(frozen=True)
class SurveySide:
    """One side of a before/after comparison: whether its survey has opened, is open or has
    closed (`survey_state`; 'open' while any copy is), and when it opens and closes. A side
    without figures says which: not yet open, open (rule 5), or too few answers."""

    state: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None


@dataclass(frozen=True)
class SelfAssessmentChange:
    question_id: str
    question_text: str
    pre_survey: str
    post_survey: str
    paired: bool
    areas: tuple[AreaChange, ...]
    pre_side: SurveySide = SurveySide("closed")
    post_side: SurveySide = SurveySide("closed")

    @property
    def rows(self) -> tuple[tuple[AreaChange, ShownChange | None], ...]:
        """Each area with the change its row shows, by the report's rule (`shown_change`)."""
        return tuple((area, shown_change(area, self.paired)) for area in self.areas)

    @property
    def off_shown_means(self) -> bool:
        """Whether a change shown is not the difference of the rounded means beside it."""
        return any(shown and shown.off_shown_means for _, shown in self.rows)


def self_assessment_change(
    session: Session, cohort_id: int, post_template_key: str,
    min_group_size: int | None = None, now: datetime | None = None,
) -> list[SelfAssessmentChange]:
    """Per-area change between a survey and the one it names in `compare_with`.

    When both are identified, answers are also paired per participant. A side still open
    shows nothing yet (publication rule 5), nor does the change.
    """
    moment = now or utcnow()
    programme = _programme(session, cohort_id)
    post_template = programme.survey(post_template_key)
    if post_template.compare_with is None:
        raise ValueError(f"survey '{post_template_key}' names no survey to compare with")
    k = min_group_size_of(session, cohort_id, min_group_size)
    pre_rows, pre_side = _rows_by_template(session, cohort_id, post_template.compare_with,
                                           moment)
    post_rows, post_side = _rows_by_template(session, cohort_id, post_template_key, moment)
    pre_template = programme.survey(post_template.compare_with)
    paired = pre_template.mode == post_template.mode == "identified"
    changes = []
    for question in post_template.questions:
        if not isinstance(question, SelfAssessmentQuestion):
            continue
        pre = [a for _, a in pre_rows]
        post = [a for _, a in post_rows]
        pairs = []
        if paired:
            before = {pid: a for pid, a in pre_rows}
            pairs = [(before[pid], a) for pid, a in post_rows if pid in before]
        changes.append(SelfAssessmentChange(
            question.id, question.text, post_template.compare_with, post_template_key, paired,
            compare_self_assessment(question, pre, post, pairs, k,
                                    (pre_side.state == "open", post_side.state == "open")),
            pre_side, post_side))
    return changes


def _rows_by_template(
    session: Session, cohort_id: int, template_key: str, now: datetime
) -> tuple[list[tuple[int | None, dict]], SurveySide]:
    """The template's answers (with the participant for identified ones), and its side:
    'open' (withheld, `withheld`) while any of its surveys is, 'not_open' while none has
    opened, else 'closed'."""
    surveys = session.scalars(select(Survey).where(
        Survey.cohort_id == cohort_id, Survey.template_key == template_key)).all()
    rows: list[tuple[int | None, dict]] = []
    for survey in surveys:
        if survey.mode == "identified":
            rows += session.execute(select(IdentifiedResponse.participant_id,
                                           IdentifiedResponse.answers)
                                    .where(IdentifiedResponse.survey_id == survey.id)).all()
        else:
            rows += [(None, a) for a in response_answers(session, survey)]
    states = {survey_state(s, now) for s in surveys}
    state = ("open" if "open" in states else "not_open" if states == {"not_open"}
             else "closed")
    side = SurveySide(state, min((s.opens_at for s in surveys), default=None),
                      max((s.closes_at for s in surveys), default=None))
    return [(pid, answers) for pid, answers in rows], side
