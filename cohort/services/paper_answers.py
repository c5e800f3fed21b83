"""Answers collected on paper or in another tool: one CSV row per response, checked cell by
cell and stored as web answers are (split from `surveys`, whose lookups it uses).

An anonymous survey's paper answers are stored as answers at once (`import_responses` says
when a file must hold at least k), their breakdown values generalised as
`surveys._breakdown_value` does for web answers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import Session

from ..core.anonymity import OTHER, generalise
from ..core.participants import RowError
from ..core.response_import import ParsedResponse, ResponseImportError, parse_responses_csv
from ..core.surveys import SurveySpec
from ..models import (
    AnonymousResponse,
    Cohort,
    IdentifiedResponse,
    Invitation,
    Participant,
    Survey,
    utcnow,
)
from ._lookup import get_cohort
from .surveys import (
    BREAKDOWN_DIMENSIONS,
    get_survey,
    min_group_size_of,
    named_answers,
    survey_spec_of,
    survey_state,
)


def import_responses(
    session: Session, cohort_id: int, survey_key: str, data: bytes | str,
    now: datetime | None = None,
) -> int:
    """Answers collected on paper or in another tool, one CSV row per response.

    Every bad cell is reported (row and column) in ResponseImportError and nothing is stored.
    Identified surveys need an `email` column and mark those invitations completed; anonymous
    surveys refuse identifying columns.
    """
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    survey = get_survey(session, cohort_id, survey_key)
    spec = survey_spec_of(session, survey)
    groups = _paper_breakdowns(session, survey, spec)
    parsed = parse_responses_csv(spec, data, _local_day(now, cohort), groups.keys())
    k = min_group_size_of(session, cohort_id)
    if survey_state(survey, now) == "closed" and len(parsed) < k:
        # A closed survey's figures are shown (publication rule 5): an import that moved them
        # by fewer than k answers would publish those answers as the difference between a
        # look before and a look after.
        raise ResponseImportError([RowError(
            1, "-", f"the survey has closed and its figures are shown: a file imported now "
            f"must hold at least {k} answers (it has {len(parsed)}), or the change in the "
            "figures would show them; import them together with others", "too_few_after_close",
            (("min", k), ("count", len(parsed))))])
    if not spec.anonymous:
        _import_identified(session, survey, parsed, now)
    else:
        _store_anonymous(session, survey.id, [p.answers for p in parsed],
                         [p.submitted_on for p in parsed],
                         [groups.get(p.breakdown or "", OTHER) for p in parsed], "paper")
    return len(parsed)


def _import_identified(
    session: Session, survey: Survey, parsed: list[ParsedResponse], now: datetime
) -> None:
    invitations = {email: (inv, pid) for email, inv, pid in session.execute(
        select(Participant.email, Invitation, Participant.id)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.survey_id == survey.id))}
    errors = []
    for row in parsed:
        found = invitations.get(row.email or "")
        if found is None:
            errors.append(RowError(row.row, "email",
                                   f"'{row.email}' is not invited to this survey"))
        elif found[0].completed:
            errors.append(RowError(row.row, "email", f"'{row.email}' has already answered"))
    if errors:
        raise ResponseImportError(errors)
    zone = ZoneInfo(session.get(Cohort, survey.cohort_id).timezone)
    for row in parsed:
        invitation, _ = invitations[row.email]
        invitation.completed = True
    session.execute(insert(IdentifiedResponse), named_answers(session, [dict(
        survey_id=survey.id, participant_id=invitations[row.email][1],
        submitted_at=datetime.combine(row.submitted_on, time(12, 0), zone),
        answers=row.answers, source="paper") for row in parsed]))
    session.flush()


def _local_day(now: datetime, cohort: Cohort) -> date:
    return now.astimezone(ZoneInfo(cohort.timezone)).date()


def _paper_breakdowns(session: Session, survey: Survey, spec: SurveySpec) -> dict[str, str]:
    """The invited participants' values of the survey's breakdown attribute -> the value an
    answer stores (generalised as for web answers, `_breakdown_value`); {} without one."""
    if not spec.anonymous or spec.breakdown not in BREAKDOWN_DIMENSIONS:
        return {}
    values = [(v or "").strip() for v in session.scalars(
        select(getattr(Participant, spec.breakdown))
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.survey_id == survey.id))]
    mapping = generalise(values, min_group_size_of(session, survey.cohort_id))
    return {v: mapping.get(v, OTHER) for v in values if v}


def _store_anonymous(
    session: Session, survey_id: int, answers: list[dict], day: date | list[date],
    breakdowns: list[str], source: str,
) -> None:
    days = day if isinstance(day, list) else [day] * len(answers)
    session.execute(insert(AnonymousResponse), [
        dict(id=uuid.uuid4().hex, survey_id=survey_id, submitted_on=d, answers=a,
             breakdown_value=b, source=source)
        for a, d, b in zip(answers, days, breakdowns, strict=True)
    ])
