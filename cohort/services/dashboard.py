"""The facilitator's view of one cohort: where it stands now and what happens next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from ..core.survey_results import percent
from ..models import ActivityEntry, Cohort, Delivery, Invitation, Meeting, Participant, Survey
from .activity import cohort_activity
from .attendance import AttendanceOverview, attendance_overview
from .deliveries import anonymous_survey_keys, is_anonymous_reminder
from .participants import RepairFlag, RotationSummary, groups_overview

UPCOMING_DAYS = 14


@dataclass(frozen=True)
class UpcomingDelivery:
    """Emails of one kind going out at one time: one row per batch, not per person."""

    send_at: datetime
    kind: str
    anchors: tuple[str, ...]
    emails: int


@dataclass(frozen=True)
class ResponseRate:
    survey: Survey
    invited: int
    completed: int

    @property
    def percent(self) -> int:
        return percent(self.completed, self.invited) if self.invited else 0


@dataclass(frozen=True)
class Dashboard:
    cohort: Cohort
    past: list[Meeting]
    next: Meeting | None
    upcoming: list[Meeting]
    cancelled: list[Meeting]
    deliveries: list[UpcomingDelivery]
    participant_count: int
    organisation_count: int
    groupings: list[RotationSummary]
    repair: list[RepairFlag]
    attendance: AttendanceOverview
    response_rates: list[ResponseRate]
    activity: list[ActivityEntry]
    failed_deliveries: int


def cohort_dashboard(session: Session, cohort: Cohort, now: datetime) -> Dashboard:
    """Everything the overview shows, counted in the database: a cohort can have thousands of
    participants, and the overview shows figures about them, not lists of them."""
    meetings = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort.id)
                               .order_by(Meeting.starts_at, Meeting.position)).all()
    scheduled = [m for m in meetings if m.status != "cancelled"]
    past = [m for m in scheduled if m.ends_at <= now]
    coming = [m for m in scheduled if m.ends_at > now]
    groupings, repair = groups_overview(session, cohort)
    people = (Participant.cohort_id == cohort.id, Participant.erased_at.is_(None))
    return Dashboard(
        cohort=cohort, past=past, next=coming[0] if coming else None, upcoming=coming[1:],
        cancelled=[m for m in meetings if m.status == "cancelled"],
        deliveries=upcoming_deliveries(session, cohort.id, now),
        participant_count=session.scalar(
            select(func.count()).select_from(Participant).where(*people)) or 0,
        organisation_count=session.scalar(
            select(func.count(func.distinct(Participant.organisation)))
            .where(*people, Participant.organisation != "")) or 0,
        groupings=groupings, repair=repair,
        attendance=attendance_overview(session, cohort.id, meetings),
        response_rates=response_rates(session, cohort.id, now),
        activity=cohort_activity(session, cohort.id, limit=10),
        failed_deliveries=_failed_deliveries(session, cohort.id),
    )


def _failed_deliveries(session: Session, cohort_id: int) -> int:
    """Failed or uncertain emails, as the outbox lists them: without the reminders of
    anonymous surveys, which it only counts (a failed one was going to someone who had not
    answered; see services/deliveries.py)."""
    anonymous = anonymous_survey_keys(session, cohort_id)
    return sum(not is_anonymous_reminder(row, anonymous) for row in session.scalars(
        select(Delivery).where(Delivery.cohort_id == cohort_id,
                               Delivery.state.in_(("failed", "needs_review")))))


def upcoming_deliveries(session: Session, cohort_id: int, now: datetime,
                        days: int = UPCOMING_DAYS) -> list[UpcomingDelivery]:
    rows = session.execute(
        select(Delivery.send_at, Delivery.kind, Delivery.anchor, func.count())
        .where(Delivery.cohort_id == cohort_id, Delivery.state == "pending",
               Delivery.send_at < now + timedelta(days=days))
        .group_by(Delivery.send_at, Delivery.kind, Delivery.anchor)
        .order_by(Delivery.send_at, Delivery.kind, Delivery.anchor))
    batches: dict[tuple[datetime, str], tuple[list[str], int]] = {}
    for send_at, kind, anchor, count in rows:
        anchors, emails = batches.get((send_at, kind), ([], 0))
        anchors.append(anchor)
        batches[send_at, kind] = (anchors, emails + count)
    return [UpcomingDelivery(send_at, kind, tuple(anchors), emails)
            for (send_at, kind), (anchors, emails) in batches.items()]


def response_rates(session: Session, cohort_id: int, now: datetime) -> list[ResponseRate]:
    """Completion per survey that has opened (only invitations exist before the survey issue)."""
    rows = session.execute(
        select(Survey, func.count(Invitation.id),
               func.count(Invitation.id).filter(Invitation.completed.is_(True)))
        .outerjoin(Invitation, Invitation.survey_id == Survey.id)
        .where(Survey.cohort_id == cohort_id, Survey.opens_at <= now)
        .group_by(Survey.id).order_by(Survey.opens_at, Survey.key))
    return [ResponseRate(survey, invited, completed) for survey, invited, completed in rows]


def next_meeting(session: Session, cohort_id: int, now: datetime) -> Meeting | None:
    return session.scalars(select(Meeting).where(
        Meeting.cohort_id == cohort_id, Meeting.status != "cancelled", Meeting.ends_at > now)
        .order_by(Meeting.starts_at)).first()
