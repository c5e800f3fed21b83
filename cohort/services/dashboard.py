"""The facilitator's view of one cohort (where it stands now and what happens next), and the
staff dashboard's cards of all their cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.attendance import FOLLOW_UP_AFTER, MISSED_STATES
from ..core.survey_results import percent
from ..models import (
    ActivityEntry,
    AnonymousAnswerPool,
    AnonymousResponse,
    Attendance,
    Cohort,
    Delivery,
    Group,
    GroupMember,
    IdentifiedResponse,
    Invitation,
    Meeting,
    Participant,
    Survey,
)
from ._lookup import cohort_programme
from .activity import cohort_activity
from .attendance import AttendanceOverview, attendance_overview
from .deliveries import anonymous_survey_keys, is_anonymous_reminder
from .participants import RepairFlag, RotationSummary, groups_overview, summarise_groups

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
    # The participants counted once: everyone (erased too, as attendance and groups count
    # them), those not erased and their organisations.
    active = Participant.erased_at.is_(None)
    everyone, participants, organisations = session.execute(
        select(func.count(), func.count().filter(active),
               func.count(func.distinct(Participant.organisation))
               .filter(active, Participant.organisation != ""))
        .where(Participant.cohort_id == cohort.id)).one()
    groupings, repair = groups_overview(session, cohort, everyone)
    return Dashboard(
        cohort=cohort, past=past, next=coming[0] if coming else None, upcoming=coming[1:],
        cancelled=[m for m in meetings if m.status == "cancelled"],
        deliveries=upcoming_deliveries(session, cohort.id, now),
        participant_count=participants, organisation_count=organisations,
        groupings=groupings, repair=repair,
        attendance=attendance_overview(session, cohort.id, meetings, everyone),
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
                               Delivery.state.in_(FAILED_STATES))))


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


# The dashboard's three sections, in the order it shows them.
RUNNING, UPCOMING, FINISHED = "running", "upcoming", "finished"
PHASES = (RUNNING, UPCOMING, FINISHED)
FAILED_STATES = (kinds.FAILED, kinds.NEEDS_REVIEW)


@dataclass(frozen=True)
class CohortCard:
    """One cohort on the staff dashboard: where it stands and what needs a look."""

    cohort: Cohort
    phase: str  # RUNNING, UPCOMING or FINISHED
    participants: int
    meetings: int  # scheduled (not cancelled)
    held: int  # of those, ended by now
    next: Meeting | None
    failed_emails: int
    missed_two: int  # people who missed FOLLOW_UP_AFTER meetings or more
    repair: int  # groups too small plus rotations with people left out
    first_start: datetime | None = None
    last_end: datetime | None = None

    @property
    def alerts(self) -> bool:
        return bool(self.failed_emails or self.missed_two or self.repair)


def cohort_cards(session: Session, cohorts: Sequence[Cohort], now: datetime) -> list[CohortCard]:
    """The dashboard's cards, ordered running → upcoming → finished: the cohort in a meeting
    now or meeting soonest first, then those starting soonest, then those ended last.

    A region runs a hundred cohorts, so every figure is counted for all of them in one query
    per figure (eight in all, however many cohorts), never in a loop of queries per cohort."""
    ids = [c.id for c in cohorts]
    if not ids:
        return []
    scheduled = (Meeting.cohort_id.in_(ids), Meeting.status != "cancelled")
    meetings = {cid: (total, held, first, last) for cid, total, held, first, last in
                session.execute(select(
                    Meeting.cohort_id, func.count(),
                    func.count().filter(Meeting.ends_at <= now),
                    func.min(Meeting.starts_at), func.max(Meeting.ends_at))
                    .where(*scheduled).group_by(Meeting.cohort_id))}
    next_start = (select(Meeting.cohort_id, func.min(Meeting.starts_at).label("starts_at"))
                  .where(*scheduled, Meeting.ends_at > now).group_by(Meeting.cohort_id)
                  .subquery())
    upcoming: dict[int, Meeting] = {}
    for meeting in session.scalars(select(Meeting).join(next_start, (
            Meeting.cohort_id == next_start.c.cohort_id)
            & (Meeting.starts_at == next_start.c.starts_at))
            .where(*scheduled).order_by(Meeting.position)):
        upcoming.setdefault(meeting.cohort_id, meeting)
    people = {cid: (everyone, active) for cid, everyone, active in session.execute(
        select(Participant.cohort_id, func.count(),
               func.count().filter(Participant.erased_at.is_(None)))
        .where(Participant.cohort_id.in_(ids)).group_by(Participant.cohort_id))}
    failed = _failed_per_cohort(session, ids)
    missed_two = _missed_two_per_cohort(session, ids)
    repair = _repairs_per_cohort(session, cohorts, {cid: n for cid, (n, _) in people.items()})
    cards = []
    for cohort in cohorts:
        total, held, first, last = meetings.get(cohort.id, (0, 0, None, None))
        cards.append(CohortCard(
            cohort=cohort, phase=_phase(total, held, first, now, cohort),
            participants=people.get(cohort.id, (0, 0))[1], meetings=total, held=held,
            next=upcoming.get(cohort.id), failed_emails=failed.get(cohort.id, 0),
            missed_two=missed_two.get(cohort.id, 0), repair=repair.get(cohort.id, 0),
            first_start=first, last_end=last))
    return sorted(cards, key=_card_order)


def _phase(total: int, held: int, first: datetime | None, now: datetime,
           cohort: Cohort) -> str:
    if total == 0:  # no meetings (all cancelled): by its start date
        return UPCOMING if cohort.start_date > now.date() else FINISHED
    if held == total:
        return FINISHED
    return RUNNING if first is not None and first <= now else UPCOMING


def _card_order(card: CohortCard) -> tuple:
    rank = PHASES.index(card.phase)
    if card.phase == RUNNING:
        key = card.next.starts_at.timestamp() if card.next else 0.0
    elif card.phase == UPCOMING:
        key = card.first_start.timestamp() if card.first_start else 0.0
    else:  # finished: the one that ended last first
        key = -card.last_end.timestamp() if card.last_end else 0.0
    return rank, key, card.cohort.id


def _failed_per_cohort(session: Session, ids: list[int]) -> dict[int, int]:
    """Failed or uncertain emails per cohort, as the outbox and the overview count them
    (without the reminders of anonymous surveys: see _failed_deliveries)."""
    anonymous: dict[int, set[str]] = {}
    for cid, key in session.execute(select(Survey.cohort_id, Survey.key).where(
            Survey.cohort_id.in_(ids), Survey.mode == "anonymous")):
        anonymous.setdefault(cid, set()).add(key)
    counts: dict[int, int] = {}
    # The failed rows themselves, not a GROUP BY: grouping by (cohort, kind, anchor) made
    # SQLite walk the unique index over every row of every cohort (600,000 rows in a region,
    # 0.7 s) instead of reading the few failed ones from ix_delivery_cohort_batches.
    for row in session.execute(
            select(Delivery.cohort_id, Delivery.kind, Delivery.anchor)
            .where(Delivery.cohort_id.in_(ids), Delivery.state.in_(FAILED_STATES))):
        if not is_anonymous_reminder(row, anonymous.get(row.cohort_id, set())):
            counts[row.cohort_id] = counts.get(row.cohort_id, 0) + 1
    return counts


def _missed_two_per_cohort(session: Session, ids: list[int]) -> dict[int, int]:
    """People on each cohort's follow-up list (the overview's rule: missed, i.e. absent or
    excused, at FOLLOW_UP_AFTER scheduled meetings or more)."""
    per_person = (select(Attendance.cohort_id)
                  .join(Meeting, Meeting.id == Attendance.meeting_id)
                  .where(Attendance.cohort_id.in_(ids), Meeting.status != "cancelled",
                         Attendance.state.in_(MISSED_STATES))
                  .group_by(Attendance.cohort_id, Attendance.participant_id)
                  .having(func.count() >= FOLLOW_UP_AFTER).subquery())
    return dict(session.execute(select(per_person.c.cohort_id, func.count())
                                .group_by(per_person.c.cohort_id)).all())


def _repairs_per_cohort(session: Session, cohorts: Sequence[Cohort],
                        everyone: dict[int, int]) -> dict[int, int]:
    """Repair flags per cohort, judged as the overview judges them (summarise_groups)."""
    ids = [c.id for c in cohorts]
    groups: dict[int, list[tuple[str, int, int, int]]] = {}
    for cid, key, rotation, number, size in session.execute(
            select(Group.cohort_id, Group.grouping_key, Group.rotation, Group.number,
                   func.count(GroupMember.id))
            .outerjoin(GroupMember, GroupMember.group_id == Group.id)
            .where(Group.cohort_id.in_(ids))
            .group_by(Group.id, Group.cohort_id, Group.grouping_key, Group.rotation, Group.number)
            .order_by(Group.cohort_id, Group.grouping_key, Group.rotation, Group.number)):
        groups.setdefault(cid, []).append((key, rotation, number, size))
    placed: dict[int, dict[tuple[str, int], int]] = {}
    for cid, key, rotation, n in session.execute(
            select(Group.cohort_id, Group.grouping_key, Group.rotation,
                   func.count(func.distinct(GroupMember.participant_id)))
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.cohort_id.in_(ids))
            .group_by(Group.cohort_id, Group.grouping_key, Group.rotation)):
        placed.setdefault(cid, {})[key, rotation] = n
    repairs = {}
    for cohort in cohorts:
        if cohort.id not in groups:
            continue
        groupings = {g.key: g for g in cohort_programme(cohort).groupings}
        _, flags = summarise_groups(groupings, groups[cohort.id], placed.get(cohort.id, {}),
                                    everyone.get(cohort.id, 0))
        repairs[cohort.id] = len(flags)
    return repairs


@dataclass(frozen=True)
class ResponseTotals:
    """One cohort on the evaluator's start page: surveys opened so far, and their invitations
    and answers (anonymous answers waiting in the pool count as received)."""

    opened: int = 0
    answered: int = 0
    invited: int = 0


def response_totals(session: Session, cohort_ids: Sequence[int],
                    now: datetime) -> dict[int, ResponseTotals]:
    """The evaluator's start page for all their cohorts at once, in five queries however many
    cohorts: the same sums as `surveys.response_rates` per cohort (which runs three or four
    queries per survey and names who has not answered; a list of cohorts needs only totals)."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    opened = (Survey.cohort_id.in_(ids), Survey.opens_at <= now)
    surveys = dict(session.execute(select(Survey.cohort_id, func.count())
                                   .where(*opened).group_by(Survey.cohort_id)).all())

    def per_cohort(model, *where) -> dict[int, int]:
        return dict(session.execute(
            select(Survey.cohort_id, func.count()).select_from(model)
            .join(Survey, Survey.id == model.survey_id)
            .where(*opened, *where).group_by(Survey.cohort_id)).all())

    invited = per_cohort(Invitation)
    answers = [per_cohort(IdentifiedResponse, Survey.mode != "anonymous"),
               per_cohort(AnonymousResponse, Survey.mode == "anonymous"),
               per_cohort(AnonymousAnswerPool, Survey.mode == "anonymous")]
    return {cid: ResponseTotals(surveys.get(cid, 0), sum(a.get(cid, 0) for a in answers),
                                invited.get(cid, 0)) for cid in ids}
