"""The facilitator's view of one cohort (where it stands now and what happens next), and the
staff dashboard's cards of all their cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, case, func, select
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
from ._lookup import SNAPSHOT_SOURCE, programme_of_snapshot
from .activity import cohort_activity
from .attendance import AttendanceOverview, attendance_overview
from .cohort_list import (  # noqa: F401 (the phases: re-exported)
    COHORT_IDS,
    FINISHED,
    NOW,
    PHASES,
    RUNNING,
    UPCOMING,
    in_order,
    moment,
    timeline,
)
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
    now or meeting soonest first, then those starting soonest, then those ended last (the
    phase and the order are `cohort_list.timeline`'s, the ones the pages are made with).

    Every figure is counted for all the given cohorts (a page of them) at once, in at most
    eight queries however many cohorts, never in a loop of queries per cohort; the cohorts'
    programme snapshots need not be loaded."""
    if not cohorts:
        return []
    q = _card_queries()
    params = {"cohort_ids": [c.id for c in cohorts], **moment(now)}
    figures = session.execute(q.figures, params).all()
    upcoming: dict[int, Meeting] = {}
    for meeting in session.scalars(q.next_meetings, params):
        upcoming.setdefault(meeting.cohort_id, meeting)
    failed = _failed_per_cohort(session, q, params)
    missed_two = dict(session.execute(q.missed_two, params).all())
    repair = _repairs_per_cohort(session, q, params,
                                 {row.cohort_id: row.everyone for row in figures})
    by_id = {c.id: c for c in cohorts}
    return [CohortCard(
        cohort=by_id[row.cohort_id], phase=PHASES[row.rank], participants=row.active,
        meetings=row.total, held=row.held, next=upcoming.get(row.cohort_id),
        failed_emails=failed.get(row.cohort_id, 0), missed_two=missed_two.get(row.cohort_id, 0),
        repair=repair.get(row.cohort_id, 0), first_start=row.first_start,
        last_end=row.last_end) for row in figures]


class _CardQueries(NamedTuple):
    figures: Select  # timeline's rows and the participants, in the dashboard's order
    next_meetings: Select
    failed: Select
    anonymous: Select
    missed_two: Select
    groups: Select
    placed: Select
    sources: Select


@cache
def _card_queries() -> _CardQueries:
    """The cards' queries over the cohorts of COHORT_IDS, built once: building statements
    this size costs more than running them on a page of cohorts."""
    ids = COHORT_IDS
    rows = timeline(ids)
    people = (select(Participant.cohort_id, func.count().label("everyone"),
                     func.count().filter(Participant.erased_at.is_(None)).label("active"))
              .where(Participant.cohort_id.in_(ids)).group_by(Participant.cohort_id).subquery())
    figures = (select(rows, func.coalesce(people.c.everyone, 0).label("everyone"),
                      func.coalesce(people.c.active, 0).label("active"))
               .outerjoin(people, people.c.cohort_id == rows.c.cohort_id)
               .order_by(*in_order(rows)))
    next_meetings = (select(Meeting).join(rows, (Meeting.cohort_id == rows.c.cohort_id)
                                          & (Meeting.starts_at == rows.c.next_start))
                     .where(Meeting.status != "cancelled").order_by(Meeting.position))
    # The failed rows themselves, not a GROUP BY: grouping by (cohort, kind, anchor) made
    # SQLite walk the unique index over every row of every cohort (600,000 rows in a region,
    # 0.7 s) instead of reading the few failed ones from ix_delivery_cohort_batches.
    failed = select(Delivery.cohort_id, Delivery.kind, Delivery.anchor).where(
        Delivery.cohort_id.in_(ids), Delivery.state.in_(FAILED_STATES))
    anonymous = select(Survey.cohort_id, Survey.key).where(
        Survey.cohort_id.in_(ids), Survey.mode == "anonymous")
    # People on each cohort's follow-up list (the overview's rule: missed, i.e. absent or
    # excused, at FOLLOW_UP_AFTER scheduled meetings or more).
    per_person = (select(Attendance.cohort_id)
                  .join(Meeting, Meeting.id == Attendance.meeting_id)
                  .where(Attendance.cohort_id.in_(ids), Meeting.status != "cancelled",
                         Attendance.state.in_(MISSED_STATES))
                  .group_by(Attendance.cohort_id, Attendance.participant_id)
                  .having(func.count() >= FOLLOW_UP_AFTER).subquery())
    missed_two = select(per_person.c.cohort_id, func.count()).group_by(per_person.c.cohort_id)
    # Each group's size; and the people placed per rotation (a person counted once per
    # rotation, however many of its groups they are in). Two queries: joined into one, SQLite
    # builds an automatic index for the join and takes longer than for both.
    groups = (select(Group.cohort_id, Group.grouping_key, Group.rotation, Group.number,
                     func.count(GroupMember.id))
              .outerjoin(GroupMember, GroupMember.group_id == Group.id)
              .where(Group.cohort_id.in_(ids))
              .group_by(Group.id, Group.cohort_id, Group.grouping_key, Group.rotation,
                        Group.number)
              .order_by(Group.cohort_id, Group.grouping_key, Group.rotation, Group.number))
    placed = (select(Group.cohort_id, Group.grouping_key, Group.rotation,
                     func.count(func.distinct(GroupMember.participant_id)))
              .join(Group, Group.id == GroupMember.group_id)
              .where(Group.cohort_id.in_(ids))
              .group_by(Group.cohort_id, Group.grouping_key, Group.rotation))
    sources = select(Cohort.id, SNAPSHOT_SOURCE).where(Cohort.id.in_(ids))
    return _CardQueries(figures, next_meetings, failed, anonymous, missed_two, groups, placed,
                        sources)


def _failed_per_cohort(session: Session, q: _CardQueries, params: dict) -> dict[int, int]:
    """Failed or uncertain emails per cohort, as the outbox and the overview count them
    (without the reminders of anonymous surveys: see _failed_deliveries). The anonymous
    surveys are read only when a failed survey reminder is among them (rarely)."""
    rows = session.execute(q.failed, params).all()
    anonymous: dict[int, set[str]] = {}
    if any(row.kind == kinds.SURVEY_REMINDER for row in rows):
        for cid, key in session.execute(q.anonymous, params):
            anonymous.setdefault(cid, set()).add(key)
    counts: dict[int, int] = {}
    for row in rows:
        if not is_anonymous_reminder(row, anonymous.get(row.cohort_id, set())):
            counts[row.cohort_id] = counts.get(row.cohort_id, 0) + 1
    return counts


def _repairs_per_cohort(session: Session, q: _CardQueries, params: dict,
                        everyone: dict[int, int]) -> dict[int, int]:
    """Repair flags per cohort, judged as the overview judges them (summarise_groups), with
    each programme's groupings from the snapshot cache (keyed by the text, so the cohorts of
    one programme share one parse)."""
    groups: dict[int, list[tuple[str, int, int, int]]] = {}
    for cid, key, rotation, number, size in session.execute(q.groups, params):
        groups.setdefault(cid, []).append((key, rotation, number, size))
    if not groups:
        return {}
    placed: dict[int, dict[tuple[str, int], int]] = {}
    for cid, key, rotation, n in session.execute(q.placed, params):
        placed.setdefault(cid, {})[key, rotation] = n
    repairs = {}
    for cid, source in session.execute(q.sources, {**params, "cohort_ids": list(groups)}):
        groupings = {g.key: g for g in programme_of_snapshot(source).groupings}
        _, flags = summarise_groups(groupings, groups[cid], placed.get(cid, {}),
                                    everyone.get(cid, 0))
        repairs[cid] = len(flags)
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
    """The evaluator's start page for a page of cohorts at once, in one query however many
    cohorts: the same sums as `surveys.response_rates` per cohort (which runs three or four
    queries per survey and names who has not answered; a list of cohorts needs only totals)."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    found = {cid: ResponseTotals(opened, answered, invited) for cid, opened, invited, answered
             in session.execute(_totals_query(), {"cohort_ids": ids, **moment(now)})}
    return {cid: found.get(cid, ResponseTotals()) for cid in ids}


@cache
def _totals_query() -> Select:
    """Per cohort of COHORT_IDS: surveys opened by NOW, their invitations, and their answers
    (identified ones for identified surveys; for anonymous surveys the stored answers and those
    waiting in the pool). Each table is counted per survey, then summed per cohort."""
    opened = select(Survey.id).where(Survey.cohort_id.in_(COHORT_IDS), Survey.opens_at <= NOW)

    def per_survey(model):
        return (select(model.survey_id, func.count().label("n"))
                .where(model.survey_id.in_(opened)).group_by(model.survey_id).subquery())

    invited, identified, anonymous, pooled = (
        per_survey(model) for model in (Invitation, IdentifiedResponse, AnonymousResponse,
                                        AnonymousAnswerPool))
    is_anonymous = Survey.mode == "anonymous"
    answered = (case((is_anonymous, func.coalesce(anonymous.c.n, 0)
                      + func.coalesce(pooled.c.n, 0)),
                     else_=func.coalesce(identified.c.n, 0)))
    return (select(Survey.cohort_id, func.count(), func.coalesce(func.sum(invited.c.n), 0),
                   func.coalesce(func.sum(answered), 0))
            .outerjoin(invited, invited.c.survey_id == Survey.id)
            .outerjoin(identified, identified.c.survey_id == Survey.id)
            .outerjoin(anonymous, anonymous.c.survey_id == Survey.id)
            .outerjoin(pooled, pooled.c.survey_id == Survey.id)
            .where(Survey.cohort_id.in_(COHORT_IDS), Survey.opens_at <= NOW)
            .group_by(Survey.cohort_id))
