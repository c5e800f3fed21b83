"""The facilitator's view of one cohort (where it stands now and what happens next), and the
staff dashboard's cards of all their cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, case, func, literal_column, null, select, union_all
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.attendance import FOLLOW_UP_AFTER, MISSED_STATES
from ..core.survey_results import percent
from ..core.turning_points import JUST_AFTER, next_turning_point
from ..db import constant
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
from ._lookup import SNAPSHOT_DIGEST, programme_of_digest
from .activity import cohort_activity
from .attendance_figures import AttendanceOverview, attendance_overview
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
from .outbox_pages import item_titles
from .participants import RepairFlag, RotationSummary, groups_overview, summarise_groups

UPCOMING_DAYS = 14


@dataclass(frozen=True)
class UpcomingDelivery:
    """Emails of one kind going out at one time: one row per batch, not per person."""

    send_at: datetime
    kind: str
    anchors: tuple[str, ...]
    emails: int
    # What they are about, by name, each once (a meeting's, task's or survey's title): the
    # overview never shows raw keys such as `task:questions@kickoff`.
    titles: tuple[str, ...] = ()


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
    # The next moment any of the above can change by the clock alone (None: none ahead);
    # until then only a write changes it (see core/turning_points.py).
    changes_at: datetime | None = None


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
    deliveries = upcoming_deliveries(session, cohort.id, now)
    return Dashboard(
        cohort=cohort, past=past, next=coming[0] if coming else None, upcoming=coming[1:],
        cancelled=[m for m in meetings if m.status == "cancelled"],
        deliveries=deliveries,
        participant_count=participants, organisation_count=organisations,
        groupings=groupings, repair=repair,
        attendance=attendance_overview(session, cohort.id, meetings, everyone),
        response_rates=response_rates(session, cohort.id, now),
        activity=cohort_activity(session, cohort.id, limit=10),
        failed_deliveries=_failed_deliveries(session, cohort.id),
        changes_at=_next_clock_change(session, cohort.id, meetings, deliveries, now),
    )


def _next_clock_change(session: Session, cohort_id: int, meetings: Sequence[Meeting],
                       deliveries: Sequence[UpcomingDelivery], now: datetime,
                       days: int = UPCOMING_DAYS) -> datetime | None:
    """When the clock alone next changes the overview: a meeting begins (it can no longer
    be cancelled) or ends (`ends_at <= now`: past, next, upcoming), an email it lists falls
    due (`send_at <= now`: "due now"), a survey opens (`opens_at <= now`: its response rate
    shows), a pending email enters the window of `days` (`send_at < now + days`: just after
    `send_at - days`). The last two are read in one statement."""
    window = timedelta(days=days)
    entering, opening = session.execute(select(
        select(func.min(Delivery.send_at))
        .where(Delivery.cohort_id == cohort_id, Delivery.state == "pending",
               Delivery.send_at >= now + window).scalar_subquery(),
        select(func.min(Survey.opens_at))
        .where(Survey.cohort_id == cohort_id, Survey.opens_at > now).scalar_subquery())).one()
    return next_turning_point(
        [*(m.starts_at for m in meetings), *(m.ends_at for m in meetings),
         *(d.send_at for d in deliveries), opening,
         entering and entering - window + JUST_AFTER], now)


def _failed_deliveries(session: Session, cohort_id: int) -> int:
    """Failed or uncertain emails, as the outbox lists them: without the reminders of
    anonymous surveys, which it only counts (a failed one was going to someone who had not
    answered; see services/deliveries.py)."""
    anonymous = anonymous_survey_keys(session, cohort_id)
    # The states written into the SQL (db.constant): bound, PostgreSQL's generic plan for a
    # prepared statement read every email of the cohort (0.8 ms instead of 0.05).
    return sum(not is_anonymous_reminder(row, anonymous) for row in session.scalars(
        select(Delivery).where(Delivery.cohort_id == cohort_id,
                               Delivery.state.in_([constant(s) for s in FAILED_STATES]))))


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
    names = item_titles(session, cohort_id, {a for anchors, _ in batches.values()
                                             for a in anchors})
    return [UpcomingDelivery(send_at, kind, tuple(anchors), emails,
                             tuple(dict.fromkeys(names[a] for a in anchors if a in names)))
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
    # The next moment the clock alone changes the card (None: none ahead; core/turning_points)
    changes_at: datetime | None = None

    @property
    def alerts(self) -> bool:
        return bool(self.failed_emails or self.missed_two or self.repair)


def cohort_cards(session: Session, cohorts: Sequence[Cohort], now: datetime) -> list[CohortCard]:
    """The dashboard's cards, ordered running → upcoming → finished: the cohort in a meeting
    now or meeting soonest first, then those starting soonest, then those ended last (the
    phase and the order are `cohort_list.timeline`'s, the ones the pages are made with).

    Every figure is counted for all the given cohorts (a page of them) at once, never in a
    loop of queries per cohort: one query for the figures, one more when any of the cohorts
    has groups (and, rarely, one for failed reminders of anonymous surveys). Each statement is
    a round trip on PostgreSQL, which is what a dashboard there cost. The cohorts' programme
    snapshots need not be loaded: only the digest of those with groups is read."""
    if not cohorts:
        return []
    q = _card_queries()
    params = {"cohort_ids": [c.id for c in cohorts], **moment(now)}
    figures, seen = [], set()
    for row in session.execute(q.figures, params):
        if row.cohort_id not in seen:  # two meetings starting at once: the first by position
            seen.add(row.cohort_id)
            figures.append(row)
    failed = _failed_per_cohort(session, q, params, figures)
    repair = _repairs_per_cohort(session, q, params, figures)
    by_id = {c.id: c for c in cohorts}
    return [CohortCard(
        cohort=by_id[row.cohort_id], phase=PHASES[row.rank], participants=row.active,
        meetings=row.total, held=row.held, next=row.Meeting,
        failed_emails=failed.get(row.cohort_id, 0), missed_two=row.missed_two,
        repair=repair.get(row.cohort_id, 0), first_start=row.first_start,
        last_end=row.last_end, changes_at=_card_changes_at(row, by_id[row.cohort_id], now))
        for row in figures]


def _card_changes_at(row, cohort: Cohort, now: datetime) -> datetime | None:
    """When the clock alone next changes a card (`cohort_list.timeline`'s rules): its first
    meeting starts (running), a meeting ends (held, next, finished once the last has), or,
    for a cohort without meetings, its start date comes (a UTC date, like TODAY)."""
    starts = datetime.combine(cohort.start_date, time(), UTC) if not row.total else None
    return next_turning_point([row.first_start, row.next_end, starts], now)


class _CardQueries(NamedTuple):
    # Per cohort, in the dashboard's order: timeline's rows, the participants, the next
    # meeting, the people to follow up, the failed emails, and the digest of the programme's
    # text when it has groups.
    figures: Select
    failed: Select
    anonymous: Select
    groups: Select  # each group's size, and the people placed per rotation


@cache
def _card_queries() -> _CardQueries:
    """The cards' queries over the cohorts of COHORT_IDS, built once: building statements
    this size costs more than running them on a page of cohorts. Fixed values are written
    into the SQL (`db.constant`), so a prepared statement's plan on PostgreSQL knows them."""
    ids = COHORT_IDS
    rows = timeline(ids)
    scheduled = Meeting.status != constant("cancelled")
    cohort_id = rows.c.cohort_id

    def per_cohort(query: Select):  # a figure of the timeline row's cohort
        return query.correlate(rows).scalar_subquery()

    everyone = per_cohort(select(func.count()).where(Participant.cohort_id == cohort_id))
    active = per_cohort(select(func.count()).where(Participant.cohort_id == cohort_id,
                                                   Participant.erased_at.is_(None)))
    # People on each cohort's follow-up list (the overview's rule: missed, i.e. absent or
    # excused, at FOLLOW_UP_AFTER scheduled meetings or more).
    per_person = (select(Attendance.cohort_id)
                  .join(Meeting, Meeting.id == Attendance.meeting_id)
                  .where(Attendance.cohort_id.in_(ids), scheduled,
                         Attendance.state.in_([constant(s) for s in sorted(MISSED_STATES)]))
                  .group_by(Attendance.cohort_id, Attendance.participant_id)
                  .having(func.count() >= constant(FOLLOW_UP_AFTER)).subquery())
    missed = (select(per_person.c.cohort_id, func.count().label("n"))
              .group_by(per_person.c.cohort_id).subquery())
    # The failed emails, and how many of them are survey reminders (only those may be
    # reminders of anonymous surveys, which the counts leave out: `_failed_per_cohort`),
    # counted from the delivery table's index on (cohort, state, ...).
    is_failed = Delivery.state.in_([constant(s) for s in FAILED_STATES])
    # When the card's next scheduled meeting ends (its turning point: `_card_changes_at`),
    # read here rather than in `timeline`, whose page query runs on every landing page.
    next_end = per_cohort(select(func.min(Meeting.ends_at)).where(
        Meeting.cohort_id == cohort_id, scheduled, Meeting.ends_at > NOW))
    failed = per_cohort(select(func.count()).where(Delivery.cohort_id == cohort_id, is_failed))
    failed_reminders = per_cohort(select(func.count()).where(
        Delivery.cohort_id == cohort_id, is_failed,
        Delivery.kind == constant(kinds.SURVEY_REMINDER)))
    # The digest of the programme's text, for the cohorts with groups (their repair flags need
    # its groupings: `_lookup.programme_of_digest`, which reads the text once per process).
    has_groups = select(Group.id).where(Group.cohort_id == cohort_id).correlate(rows).exists()
    # Figures as subqueries of each row (one value each), not joins: PostgreSQL multiplied
    # the row estimates of joined aggregates into millions, which put the statement over
    # jit_above_cost (compiling it took 30 ms to a second on a page of one cohort) and made
    # it hash whole tables.
    figures = (select(rows, everyone.label("everyone"), active.label("active"),
                      func.coalesce(missed.c.n, 0).label("missed_two"),
                      next_end.label("next_end"),
                      failed.label("failed"), failed_reminders.label("failed_reminders"),
                      case((has_groups, SNAPSHOT_DIGEST)).label("programme"), Meeting)
               .join(Cohort, Cohort.id == cohort_id)
               .outerjoin(missed, missed.c.cohort_id == cohort_id)
               # The meeting the card shows next: of those not over, the first to start
               # (timeline's next_start); several starting then give several rows, of which
               # cohort_cards keeps the first by position.
               .outerjoin(Meeting, (Meeting.cohort_id == cohort_id) & scheduled
                          & (Meeting.starts_at == rows.c.next_start) & (Meeting.ends_at > NOW))
               .order_by(*in_order(rows), Meeting.position))
    failed = select(Delivery.cohort_id, Delivery.kind, Delivery.anchor).where(
        Delivery.cohort_id.in_(ids), is_failed,
        Delivery.kind == constant(kinds.SURVEY_REMINDER))
    anonymous = select(Survey.cohort_id, Survey.key).where(
        Survey.cohort_id.in_(ids), Survey.mode == constant("anonymous"))
    # Each group's size; and the people placed per rotation (a person counted once per
    # rotation, however many of its groups they are in), as rows of one statement: joined
    # into one, SQLite builds an automatic index for the join and takes longer than for both.
    sizes = (select(literal_column("'group'").label("what"), Group.cohort_id,
                    Group.grouping_key, Group.rotation, Group.number,
                    func.count(GroupMember.id).label("n"))
             .outerjoin(GroupMember, GroupMember.group_id == Group.id)
             .where(Group.cohort_id.in_(ids))
             .group_by(Group.id, Group.cohort_id, Group.grouping_key, Group.rotation,
                       Group.number))
    placed = (select(literal_column("'placed'"), Group.cohort_id, Group.grouping_key,
                     Group.rotation, null(), func.count(func.distinct(GroupMember.participant_id)))
              .join(Group, Group.id == GroupMember.group_id)
              .where(Group.cohort_id.in_(ids))
              .group_by(Group.cohort_id, Group.grouping_key, Group.rotation))
    groups = union_all(sizes, placed)
    return _CardQueries(figures, failed, anonymous, groups)


def _failed_per_cohort(session: Session, q: _CardQueries, params: dict,
                       figures: Sequence) -> dict[int, int]:
    """Failed or uncertain emails per cohort, as the outbox and the overview count them
    (without the reminders of anonymous surveys: see _failed_deliveries). The failed survey
    reminders and the anonymous surveys are read only when there are any (rarely)."""
    counts = {row.cohort_id: row.failed for row in figures if row.failed}
    reminders = [row.cohort_id for row in figures if row.failed_reminders]
    if not reminders:
        return counts
    some = {**params, "cohort_ids": reminders}
    anonymous: dict[int, set[str]] = {}
    for cid, key in session.execute(q.anonymous, some):
        anonymous.setdefault(cid, set()).add(key)
    for row in session.execute(q.failed, some):
        if is_anonymous_reminder(row, anonymous.get(row.cohort_id, set())):
            counts[row.cohort_id] -= 1
    return counts


def _repairs_per_cohort(session: Session, q: _CardQueries, params: dict,
                        figures: Sequence) -> dict[int, int]:
    """Repair flags per cohort, judged as the overview judges them (summarise_groups), with
    each programme's groupings from the cache by the snapshot's digest (the cohorts of one
    programme share one parse, and its text is read once per process). Only the cohorts with
    groups are read."""
    digests = {row.cohort_id: row.programme for row in figures if row.programme is not None}
    if not digests:
        return {}
    groups: dict[int, list[tuple[str, int, int, int]]] = {}
    placed: dict[int, dict[tuple[str, int], int]] = {}
    for what, cid, key, rotation, number, n in session.execute(
            q.groups, {**params, "cohort_ids": list(digests)}):
        if what == "group":
            groups.setdefault(cid, []).append((key, rotation, number, n))
        else:
            placed.setdefault(cid, {})[key, rotation] = n
    everyone = {row.cohort_id: row.everyone for row in figures}
    repairs = {}
    for cid, digest in digests.items():
        groupings = {g.key: g for g in programme_of_digest(session, cid, digest).groupings}
        _, flags = summarise_groups(groupings, sorted(groups.get(cid, [])),
                                    placed.get(cid, {}), everyone.get(cid, 0))
        repairs[cid] = len(flags)
    return repairs


@dataclass(frozen=True)
class ResponseTotals:
    """One cohort on the evaluator's start page: surveys opened so far, and their invitations
    and answers (anonymous answers waiting in the pool count as received)."""

    opened: int = 0
    answered: int = 0
    invited: int = 0
    # The next survey to open: the clock's only way to change the figures (None: none ahead)
    changes_at: datetime | None = None


def response_totals(session: Session, cohort_ids: Sequence[int],
                    now: datetime) -> dict[int, ResponseTotals]:
    """The evaluator's start page for a page of cohorts at once, in one query however many
    cohorts: the same sums as `survey_responses.response_rates` per cohort (which runs three or four
    queries per survey and names who has not answered; a list of cohorts needs only totals)."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    found = {cid: ResponseTotals(opened, answered, invited, opening)
             for cid, opened, invited, answered, opening
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
    # Every survey of the cohorts is a row, so the next to open is read with the same
    # statement; only opened ones have counts to sum (the subqueries hold only those).
    return (select(Survey.cohort_id, func.count().filter(Survey.opens_at <= NOW),
                   func.coalesce(func.sum(invited.c.n), 0),
                   func.coalesce(func.sum(answered), 0),
                   func.min(Survey.opens_at).filter(Survey.opens_at > NOW))
            .outerjoin(invited, invited.c.survey_id == Survey.id)
            .outerjoin(identified, identified.c.survey_id == Survey.id)
            .outerjoin(anonymous, anonymous.c.survey_id == Survey.id)
            .outerjoin(pooled, pooled.c.survey_id == Survey.id)
            .where(Survey.cohort_id.in_(COHORT_IDS))
            .group_by(Survey.cohort_id))
