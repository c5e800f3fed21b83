"""Who has answered which survey: the read side of answering, for the outbox (whom a
reminder may go to, whom to skip), the participant's page and the evaluator's response rates.

Split from `surveys` (answering and the answer pool), which writes what this reads: an
invitation's completed mark, and the counts of stored and pooled answers. Nothing here reads
an anonymous answer's content or links it to a person: anonymous surveys have counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from ..models import AnonymousResponse, IdentifiedResponse, Invitation, Participant, Survey
from ._lookup import NotFound, cohort_programme, get_cohort
from .surveys import list_surveys, pooled_answers, survey_state


def has_answered(session: Session, survey_id: int, participant_id: int) -> bool:
    return bool(session.scalar(select(Invitation.completed).where(
        Invitation.survey_id == survey_id, Invitation.participant_id == participant_id)))


def answered_surveys(session: Session, participant_ids: list[int]) -> dict[int, set[int]]:
    """`has_answered` for many participants at once (the outbox's batch): participant id ->
    the ids of the surveys they have answered (every given id is a key)."""
    answered: dict[int, set[int]] = {pid: set() for pid in participant_ids}
    for pid, survey_id in session.execute(select(
            Invitation.participant_id, Invitation.survey_id).where(
            Invitation.participant_id.in_(participant_ids), Invitation.completed.is_(True))):
        answered[pid].add(survey_id)
    return answered


def pending_reminder_recipients(
    session: Session, survey_id: int, now: datetime | None = None
) -> list[Participant]:
    """Who a reminder for this survey may go to: invited, not answered, survey still open.

    The outbox asks this when a reminder is due (rather than cancelling reminders when someone
    answers), so answering writes no timestamp anywhere that could be matched with a response.
    """
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}")
    if now is not None and survey_state(survey, now) != "open":
        return []
    return list(session.scalars(
        select(Participant)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.survey_id == survey_id, Invitation.completed.is_(False),
               Participant.erased_at.is_(None))
        .order_by(Participant.name, Participant.id)
    ))


# --- response rates -------------------------------------------------------------------------

@dataclass(frozen=True)
class ResponseRate:
    survey_id: int
    survey_key: str
    template_key: str
    title: str
    kind: str
    mode: str
    meeting_key: str
    opens_at: datetime
    closes_at: datetime
    invited: int
    answered: int
    # Identified surveys: names of those who have not answered. Anonymous: None (only counts).
    not_answered: tuple[str, ...] | None


def response_rates(session: Session, cohort_id: int) -> list[ResponseRate]:
    """Per survey (so per meeting for meeting evaluations): invited, answered, who has not."""
    programme = cohort_programme(get_cohort(session, cohort_id))
    kinds = {s.key: s.kind for s in programme.surveys}
    rates = []
    for survey in list_surveys(session, cohort_id):
        invited = session.scalar(select(func.count()).select_from(Invitation)
                                 .where(Invitation.survey_id == survey.id)) or 0
        if survey.mode == "anonymous":
            answered = (session.scalar(select(func.count()).select_from(AnonymousResponse)
                                       .where(AnonymousResponse.survey_id == survey.id)) or 0
                        ) + pooled_answers(session, survey.id)  # received, even if not stored
            missing = None
        else:
            answered = session.scalar(select(func.count()).select_from(IdentifiedResponse)
                                      .where(IdentifiedResponse.survey_id == survey.id)) or 0
            missing = tuple(p.name for p in pending_reminder_recipients(session, survey.id))
        rates.append(ResponseRate(
            survey.id, survey.key, survey.template_key, survey.title,
            kinds.get(survey.template_key, ""), survey.mode, survey.meeting_key,
            survey.opens_at, survey.closes_at, invited, answered, missing))
    return rates
