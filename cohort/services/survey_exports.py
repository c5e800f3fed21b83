"""Evaluation data as tables for CSV/XLSX: responses, response rates and coded quotes.

Anonymous responses carry no identifier (only the random response id, the day, the
generalised breakdown value) and come in random-id order. The publication rule's decision for
one copy (`core.publication.decide`) says which anonymous surveys are exported: one still open
(rule 5: rows exported before and after one more answer would single it out) or with fewer
answers than the minimum group size (its few rows could be recognised) is left out, with a
warning. The breakdown value is given only for the groups the rule shows for that survey; the
others read as "other" (empty), so no group of 1 to k-1 answers can be told apart in the rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from ..core.attribution import text_of
from ..core.programme import MultipleChoiceQuestion, SingleChoiceQuestion
from ..core.publication import decide
from ..core.spreadsheets import Table
from ..core.survey_results import percent
from ..core.surveys import SurveySpec, answer_columns, label_of
from ..models import AnonymousResponse, EvaluatorNote, IdentifiedResponse, Participant, utcnow
from ._lookup import get_cohort
from .evaluation_notes import list_quotes, published_attributions
from .survey_figures import withheld
from .survey_responses import response_rates
from .surveys import get_survey, list_surveys, min_group_size_of, survey_spec_of

RESPONSE_COLUMNS = ["survey", "meeting", "mode", "response", "submitted_on", "source", "name",
                    "email", "organisation", "role"]


def responses_table(
    session: Session, cohort_id: int, survey_key: str | None = None,
    min_group_size: int | None = None, now: datetime | None = None,
) -> tuple[Table, list[str]]:
    """One row per response; answer columns named by question id (as the import expects)."""
    now = now or utcnow()
    surveys = ([get_survey(session, cohort_id, survey_key)] if survey_key
               else list_surveys(session, cohort_id))
    k = min_group_size_of(session, cohort_id, min_group_size)
    answer_names: list[str] = []
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for survey in surveys:
        spec = survey_spec_of(session, survey)
        columns = answer_columns(spec)
        answer_names += [c.name for c in columns if c.name not in answer_names]
        base = {"survey": survey.key, "meeting": survey.meeting_key, "mode": survey.mode}
        if spec.anonymous:
            found = session.scalars(select(AnonymousResponse).where(
                AnonymousResponse.survey_id == survey.id).order_by(AnonymousResponse.id)).all()
            still_open = withheld(survey, now)
            groups = Counter(r.breakdown_value for r in found)
            decision = decide({survey.key: len(found)}, k,
                              [(spec.breakdown or "", {survey.key: groups})],
                              open_copies={survey.key} if still_open else ())
            if found and still_open:
                warnings.append(f"{survey.key}: still open; its answers are exported once "
                                "it has closed, to protect anonymity")
                continue
            if found and not decision.copies:
                warnings.append(f"{survey.key}: only {len(found)} answer(s), fewer than {k}; "
                                "left out to protect anonymity")
                continue
            shown_groups = decision.groups.get(survey.key, frozenset())
            for response in found:
                value = response.breakdown_value if response.breakdown_value in shown_groups \
                    else None
                rows.append({**base, "response": response.id,
                             "submitted_on": response.submitted_on, "source": response.source,
                             spec.breakdown: value or None,
                             **_answer_cells(spec, response.answers)})
        else:
            found = session.execute(
                select(IdentifiedResponse, Participant)
                .join(Participant, Participant.id == IdentifiedResponse.participant_id)
                .where(IdentifiedResponse.survey_id == survey.id)
                .order_by(Participant.name, Participant.id)).all()
            zone = ZoneInfo(get_cohort(session, cohort_id).timezone)
            for response, person in found:
                rows.append({**base, "response": response.id,
                             "submitted_on": response.submitted_at.astimezone(zone).date(),
                             "source": response.source, "name": person.name,
                             "email": person.email, "organisation": person.organisation,
                             "role": person.role, **_answer_cells(spec, response.answers)})
    names = RESPONSE_COLUMNS + answer_names
    return Table("Responses", names, [[row.get(n) for n in names] for row in rows]), warnings


def _answer_cells(spec: SurveySpec, answers: dict) -> dict[str, Any]:
    """Scales as numbers (for analysis), options as their labels, text as written."""
    cells: dict[str, Any] = {}
    for column in answer_columns(spec):
        value = answers.get(column.question.id)
        if value is None:
            continue
        if column.area is not None:
            cells[column.name] = value.get(column.area)
        elif isinstance(column.question, SingleChoiceQuestion):
            cells[column.name] = label_of(column.question, value, spec.language)
        elif isinstance(column.question, MultipleChoiceQuestion):
            cells[column.name] = " | ".join(label_of(column.question, v, spec.language)
                                            for v in value)
        else:
            cells[column.name] = value
    return cells


def response_rates_table(session: Session, cohort_id: int) -> Table:
    zone = ZoneInfo(get_cohort(session, cohort_id).timezone)
    rows = []
    for rate in response_rates(session, cohort_id):
        rows.append([
            rate.survey_key, rate.title, rate.kind, rate.mode, rate.meeting_key,
            rate.opens_at.astimezone(zone).replace(tzinfo=None),
            rate.closes_at.astimezone(zone).replace(tzinfo=None), rate.invited, rate.answered,
            percent(rate.answered, rate.invited) if rate.invited else None,
            "; ".join(rate.not_answered) if rate.not_answered is not None else None,
        ])
    return Table("Response rates", ["survey", "title", "kind", "mode", "meeting", "opens",
                                    "closes", "invited", "answered", "rate_percent",
                                    "not_answered"], rows)


def quotes_table(session: Session, cohort_id: int) -> Table:
    """The coded quotes with their attributions as the report publishes them: one stored
    narrower than the minimum group size now allows is coarsened here too."""
    notes = {n.id: n for n in session.scalars(select(EvaluatorNote).where(
        EvaluatorNote.cohort_id == cohort_id))}
    quotes = list_quotes(session, cohort_id)
    published = published_attributions(session, cohort_id, quotes)
    rows = []
    for quote in quotes:
        note = notes.get(quote.note_id)
        organisation, group = published[quote.id]
        rows.append([quote.text, text_of(organisation, group), organisation, group,
                     " | ".join(quote.themes), note.kind if note else None,
                     note.title if note else None, note.meeting_key if note else None,
                     "demo" if quote.is_demo else None])
    return Table("Quotes", ["quote", "attribution", "organisation", "group", "themes",
                            "note_kind", "note", "meeting", "demo"], rows)
