"""The evaluation report of a cohort: load the facts, let `core.reporting` build the report.

The figures come from the same functions every other view uses (`survey_results.summarise`
and `summarise_copies` over `response_answers`, `self_assessment_change`,
`attendance_summary`, the quotes), with the cohort's minimum group size, so the publication
rule (`core.publication`) hides the same figures here as on the evaluator's pages. Each
survey's answers are read once: a meeting evaluation's figures per meeting and over all
meetings are both summarised from that one read.

Free-text answers are shown as a random selection; the random generator is seeded by the
cohort and survey, so the web view and the PDF of the same data show the same selection.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from ..core.programme import Programme
from ..core.report_comparison import Comparison, compare_reports
from ..core.reporting import (
    BuddyRoundFacts,
    CohortFacts,
    MeetingFacts,
    NotComparable,
    ParticipantFacts,
    PrePostFacts,
    QuoteFacts,
    Report,
    ReportFacts,
    SurveyFacts,
    TemplateFacts,
    build_report,
)
from ..core.survey_results import summarise, summarise_copies
from ..core.surveys import spec_from_survey
from ..models import EvaluatorNote, Meeting, Participant, utcnow
from ._lookup import get_cohort
from .attendance_figures import attendance_summary
from .buddy_check_ins import buddy_round_counts
from .evaluation_notes import cohort_themes, list_quotes, published_attributions
from .survey_figures import (
    open_copies,
    response_answers,
    self_assessment_change,
    settled,
    withheld,
)
from .survey_responses import response_rates
from .surveys import list_surveys, min_group_size_of, programme_snapshot

LANGUAGES = ("da", "nb", "en")


def report_facts(session: Session, cohort_id: int, min_group_size: int | None = None,
                 now: datetime | None = None) -> ReportFacts:
    """Everything the report needs about one cohort, as plain data, as it may be published
    at `now` (publication rule 5: what is still open is held back as on the web pages; buddy
    check-ins of the rounds released by `now`)."""
    cohort = get_cohort(session, cohort_id)
    programme = programme_snapshot(cohort)
    k = min_group_size_of(session, cohort_id, min_group_size)
    now = now or utcnow()
    surveys, templates = _surveys(session, cohort_id, programme, k, now)
    notes = Counter(session.scalars(select(EvaluatorNote.kind).where(
        EvaluatorNote.cohort_id == cohort_id)))
    return ReportFacts(
        cohort=CohortFacts(cohort.id, cohort.title, programme.id, programme.title,
                           programme.language, cohort.timezone, cohort.start_date,
                           programme.description.strip(), programme.audience.strip()),
        meetings=_meetings(session, cohort_id, programme),
        participants=tuple(ParticipantFacts(o or "", r or "") for o, r in session.execute(
            select(Participant.organisation, Participant.role)
            .where(Participant.cohort_id == cohort_id))),
        surveys=surveys,
        templates=templates,
        pre_post=_pre_post(session, cohort_id, templates, k, now),
        attendance=attendance_summary(session, cohort_id, min_group=k),
        quotes=_quotes(session, cohort_id, k),
        themes=tuple(cohort_themes(session, cohort_id)),
        observations=notes.get("observation", 0),
        interviews=notes.get("interview", 0),
        min_group_size=k,
        buddy_rounds=tuple(BuddyRoundFacts(key, title, released, c.pairs, c.answered, c.met)
                           for key, title, released, c in buddy_round_counts(
                               session, cohort_id, now or utcnow())),
    )


def _quotes(session: Session, cohort_id: int, k: int) -> tuple[QuoteFacts, ...]:
    """The coded quotes with their attributions as they may be published with the report's
    minimum group size: a stored one that now fits fewer people is coarsened."""
    quotes = list_quotes(session, cohort_id)
    published = published_attributions(session, cohort_id, quotes, k)
    return tuple(QuoteFacts(q.text, *published[q.id], tuple(q.themes or ())) for q in quotes)


def cohort_report(session: Session, cohort_id: int, language: str | None = None,
                  now: datetime | None = None, min_group_size: int | None = None,
                  words: bool = True) -> Report:
    """The report of one cohort in `language` (default: the cohort's language); with
    `words=False` without quotes and free-text answers (the facilitators' report)."""
    now = now or utcnow()
    facts = report_facts(session, cohort_id, min_group_size, now)
    return build_report(facts, report_language(session, cohort_id, language), now,
                        words=words)


def comparison_report(session: Session, cohort_id: int, other_id: int,
                      language: str | None = None, now: datetime | None = None,
                      words: bool = True) -> Comparison:
    """Two cohorts of the same programme side by side; NotComparable for different ones."""
    first, other = get_cohort(session, cohort_id), get_cohort(session, other_id)
    if cohort_id == other_id:
        raise NotComparable(f"cohort {cohort_id} cannot be compared with itself")
    if first.programme_id != other.programme_id:
        raise NotComparable(
            f"cohort {cohort_id} runs programme '{first.programme_id}' and cohort {other_id} "
            f"runs '{other.programme_id}': only cohorts of the same programme can be compared")
    language = report_language(session, cohort_id, language)
    now = now or utcnow()
    return compare_reports(cohort_report(session, cohort_id, language, now, words=words),
                           cohort_report(session, other_id, language, now, words=words))


def report_language(session: Session, cohort_id: int, language: str | None) -> str:
    if language is None:
        language = get_cohort(session, cohort_id).language
    if language not in LANGUAGES:
        raise ValueError(f"'{language}' is not a report language (use {', '.join(LANGUAGES)})")
    return language


def _meetings(session: Session, cohort_id: int, programme: Programme
              ) -> tuple[MeetingFacts, ...]:
    themes = {m.key: tuple(m.themes) for m in programme.meetings}
    return tuple(MeetingFacts(m.key, m.title, m.kind, m.format, m.starts_at, m.ends_at,
                              m.status == "cancelled", themes.get(m.key, ()))
                 for m in session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)
                                          .order_by(Meeting.starts_at, Meeting.position)))


def _surveys(session: Session, cohort_id: int, programme: Programme, k: int, now: datetime
             ) -> tuple[tuple[SurveyFacts, ...], tuple[TemplateFacts, ...]]:
    """Per survey its counts (and, per meeting, its figures); per template the figures over
    all its copies. Each survey's answers are read once."""
    rates = {r.survey_id: r for r in response_rates(session, cohort_id)}
    answers: dict[str, dict[str, list[dict]]] = {}
    rows: dict[str, list] = {}
    surveys = []
    for survey in list_surveys(session, cohort_id):
        rows.setdefault(survey.template_key, []).append(survey)
        template = programme.survey(survey.template_key)
        spec = spec_from_survey(template, programme.language)
        found = response_answers(session, survey)
        answers.setdefault(template.key, {})[survey.key] = found
        summary = (summarise(spec, found, k, random.Random(f"{cohort_id}:{survey.key}"),
                             withheld=withheld(survey, now))
                   if template.kind == "meeting" else None)
        rate = rates[survey.id]
        surveys.append(SurveyFacts(survey.key, template.key, survey.title, template.kind,
                                   survey.mode, survey.meeting_key, survey.opens_at,
                                   survey.closes_at, rate.invited, rate.answered, summary))
    templates = tuple(
        TemplateFacts(t.key, t.title, t.kind, t.mode, summarise_copies(
            spec_from_survey(t, programme.language), answers[t.key], k,
            random.Random(f"{cohort_id}:{t.key}"), open_copies(rows[t.key], now),
            settled(rows[t.key], now)))
        for t in programme.surveys if t.key in answers)
    return tuple(surveys), templates


def _pre_post(session: Session, cohort_id: int, templates: tuple[TemplateFacts, ...], k: int,
              now: datetime) -> tuple[PrePostFacts, ...]:
    present = {t.key for t in templates}
    found = []
    for template in templates:
        compared = template.summary.spec.compare_with
        if compared is None or compared not in present:
            continue
        for change in self_assessment_change(session, cohort_id, template.key, k, now):
            found.append(PrePostFacts(change.question_id, change.pre_survey,
                                      change.post_survey, change.paired, change.areas))
    return tuple(found)

