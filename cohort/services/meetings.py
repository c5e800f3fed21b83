"""Changing one meeting of a running cohort: preview, reschedule, cancel, restore. This is
the only way to change a meeting (web and command line alike), and every change is logged.

The preview plans the cohort twice with the pure planning core (as it is, and with the change)
and diffs the plans, so what the facilitator sees is exactly what confirming will do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from ..core import deliveries as delivery_kinds
from ..core.date_warnings import DateWarning, date_warnings
from ..core.deliveries import plan_deliveries, plan_facilitator_deliveries
from ..core.planning import (
    MeetingOverride,
    Plan,
    PlannedMeeting,
    plan_cohort,
)
from ..core.replanning import Change, DeliveryMove, delivery_moves, plan_changes
from ..models import Cohort, Delivery, Meeting, Participant, User, utcnow
from . import activity
from ._lookup import cohort_programme, get_cohort, get_meeting
from .date_checks import holidays_for
from .deliveries import queue_meeting_notices, revive_meeting_invitations
from .meeting_records import AtStake, MeetingChangeRefused, at_stake
from .outbox_pages import item_titles
from .plans import (
    POLICY_SKIPPED,
    current_plan,
    insert_deliveries,
    meeting_overrides,
    sync_plan,
)

# Why replan cancelled a pending email: the plan no longer has it. Only these come back when
# the plan wants them again (a cancelled meeting restored), never emails cancelled for other
# reasons (a participant who left, a notice superseded).
PLAN_DROPPED = "cancelled: no longer in the plan"


@dataclass(frozen=True)
class DeliveryImpact:
    """A delivery move with how many rows it touches, by state."""

    move: DeliveryMove
    pending: int = 0
    sent: int = 0
    goes_out_at_once: bool = False  # moved into the past: the next outbox run sends it


@dataclass(frozen=True)
class SentItem:
    """Already-sent emails tied to the changed meeting (their recipients saw the old plan)."""

    kind: str
    anchor: str
    count: int


@dataclass(frozen=True)
class MeetingChangePreview:
    before: PlannedMeeting
    after: PlannedMeeting
    changes: list[Change]
    deliveries: list[DeliveryImpact]
    sent: list[SentItem]
    plan_after: Plan
    # What the change puts in the past or on a weekend or holiday (the moved items only).
    date_warnings: list[DateWarning] = field(default_factory=list)
    # The emails' items by name ('task:questions@kickoff' -> the task's title).
    titles: dict[str, str] = field(default_factory=dict)
    # What people recorded that the change would delete or rewrite (refused if it is
    # attendance or survey answers; services/meeting_records.py).
    at_stake: AtStake = field(default_factory=AtStake)

    @property
    def sent_total(self) -> int:
        return sum(s.count for s in self.sent)


def preview_reschedule(
    session: Session, cohort: Cohort, meeting_key: str, starts_at: datetime,
    now: datetime | None = None, location: str | None = None, online_url: str | None = None,
) -> MeetingChangePreview:
    """What moving one meeting to `starts_at` (aware) would change."""
    def change(override: MeetingOverride) -> MeetingOverride:
        return replace(override, starts_at=starts_at,
                       location=location if location is not None else override.location,
                       online_url=online_url if online_url is not None else override.online_url)
    return _preview(session, cohort, meeting_key, change, now or utcnow(), MOVE)


def preview_cancel(session: Session, cohort: Cohort, meeting_key: str,
                   now: datetime | None = None) -> MeetingChangePreview:
    return _preview(session, cohort, meeting_key, _cancelled, now or utcnow(), CANCEL)


def preview_restore(session: Session, cohort: Cohort, meeting_key: str,
                    now: datetime | None = None) -> MeetingChangePreview:
    return _preview(session, cohort, meeting_key, lambda o: replace(o, cancelled=False),
                    now or utcnow(), RESTORE)


MOVE, CANCEL, RESTORE = "move", "cancel", "restore"


def _cancelled(override: MeetingOverride) -> MeetingOverride:
    return replace(override, cancelled=True)


def _plans(session: Session, cohort: Cohort, meeting_key: str, change) -> tuple[Plan, Plan]:
    """The cohort's plan as it is, and with `change` made to one meeting's override."""
    overrides = meeting_overrides(session, cohort)
    programme = cohort_programme(cohort)
    before = plan_cohort(programme, cohort.start_date, cohort.timezone, overrides)
    overrides[meeting_key] = change(overrides.get(meeting_key, MeetingOverride()))
    return before, plan_cohort(programme, cohort.start_date, cohort.timezone, overrides)


def _at_stake(session: Session, cohort: Cohort, meeting: Meeting, changes: list[Change],
              action: str, now: datetime) -> AtStake:
    if action == RESTORE:
        return AtStake()
    return at_stake(session, cohort.id, meeting, changes, cancelling=action == CANCEL,
                    begun=meeting.starts_at <= now)


def _refuse_if_at_stake(session: Session, cohort: Cohort, meeting: Meeting, change,
                        action: str, now: datetime) -> None:
    """The rule of services/meeting_records.py, checked where the change is made (the web's
    preview may be older than the attendance or answers recorded since)."""
    before, after = _plans(session, cohort, meeting.key, change)
    stake = _at_stake(session, cohort, meeting, plan_changes(before, after), action, now)
    if stake.refused:
        raise MeetingChangeRefused(meeting.key, stake)


def _preview(session, cohort, meeting_key, change, now, action) -> MeetingChangePreview:
    meeting = get_meeting(session, cohort.id, meeting_key)
    before, after = _plans(session, cohort, meeting_key, change)
    moves = delivery_moves(before, after, cohort.launched_at or now)
    counts = _delivery_counts(session, cohort.id, [(m.kind, m.anchor) for m in moves])
    changes = plan_changes(before, after)
    moved = {(c.item, c.key, c.field) for c in changes if c.after is not None}
    impacts = [DeliveryImpact(m, counts.get((m.kind, m.anchor, "pending"), 0),
                              counts.get((m.kind, m.anchor, "sent"), 0),
                              m.after is not None and m.after <= now) for m in moves]
    sent = _sent_items(session, cohort.id, meeting_key, moves)
    return MeetingChangePreview(
        before=before.meeting(meeting_key),
        after=after.meeting(meeting_key),
        changes=changes,
        deliveries=impacts,
        sent=sent,
        plan_after=after,
        date_warnings=date_warnings(after, now, holidays_for(cohort, after), only=moved),
        titles=item_titles(session, cohort.id,
                           {m.anchor for m in moves} | {s.anchor for s in sent}),
        at_stake=_at_stake(session, cohort, meeting, changes, action, now),
    )


def _delivery_counts(session, cohort_id, keys) -> dict[tuple[str, str, str], int]:
    if not keys:
        return {}
    anchors = {anchor for _, anchor in keys}
    rows = session.execute(
        select(Delivery.kind, Delivery.anchor, Delivery.state, Delivery.last_error, func.count())
        .where(Delivery.cohort_id == cohort_id, Delivery.anchor.in_(anchors))
        .group_by(Delivery.kind, Delivery.anchor, Delivery.state, Delivery.last_error))
    wanted = set(keys)
    counts: dict[tuple[str, str, str], int] = {}
    for kind, anchor, state, error, count in rows:
        if (kind, anchor) not in wanted:
            continue
        if state == "cancelled" and error == PLAN_DROPPED:
            state = "pending"  # replan brings these back when the plan wants them again
        counts[kind, anchor, state] = counts.get((kind, anchor, state), 0) + count
    return counts


def _sent_items(session, cohort_id, meeting_key, moves: list[DeliveryMove]) -> list[SentItem]:
    """Sent emails whose content is now out of date: the meeting's own, and every moved one."""
    anchors = {m.anchor for m in moves} | {f"meeting:{meeting_key}"}
    rows = session.execute(
        select(Delivery.kind, Delivery.anchor, func.count())
        .where(Delivery.cohort_id == cohort_id, Delivery.state == "sent",
               Delivery.anchor.in_(anchors))
        .group_by(Delivery.kind, Delivery.anchor).order_by(Delivery.anchor, Delivery.kind))
    return [SentItem(kind, anchor, count) for kind, anchor, count in rows]


def reschedule(
    session: Session, cohort_id: int, meeting_key: str, starts_at: datetime,
    actor: User | None, now: datetime | None = None, location: str | None = None,
    online_url: str | None = None,
) -> Plan:
    """Move a meeting (and optionally its place): everything anchored to it moves along, its
    SEQUENCE goes up, whoever was sent the invitation gets an update; logged. Refused
    (MeetingChangeRefused) for a meeting held: begun, with attendance recorded or answers to
    a survey the move would shift.

    `actor` None is the command line (the log says "system")."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    meeting = get_meeting(session, cohort_id, meeting_key)
    if meeting.status == "cancelled":
        raise ValueError(f"meeting '{meeting_key}' is cancelled; restore it before moving it")
    _refuse_if_at_stake(session, cohort, meeting, lambda o: replace(o, starts_at=starts_at),
                        MOVE, now)
    old_start = meeting.starts_at
    if location is not None:
        meeting.override_location = location
    if online_url is not None:
        meeting.override_online_url = online_url
    meeting.override_starts_at = starts_at
    plan = _revise_meeting(session, cohort, meeting, delivery_kinds.MEETING_UPDATE, now)
    activity.log_activity(session, cohort_id, actor, activity.MEETING_RESCHEDULED, {
        "meeting": meeting_key, "title": meeting.title, "from": old_start.isoformat(),
        "to": plan.meeting(meeting_key).starts_at.isoformat(),
    }, now)
    return plan


def cancel_meeting(session: Session, cohort_id: int, meeting_key: str, actor: User | None,
                   now: datetime | None = None) -> Plan:
    """Cancel a meeting: what is anchored to it leaves the plan, SEQUENCE goes up and whoever
    was sent the invitation gets a cancellation; logged.

    Leaving the plan deletes the items anchored to it with what was recorded on them, which
    restoring the meeting does not bring back: refused (MeetingChangeRefused) when that is
    survey answers or when attendance was recorded for it (it was held). A meeting whose
    time passed without either did not take place, and can be cancelled."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    meeting = get_meeting(session, cohort_id, meeting_key)
    if meeting.status == "cancelled":
        raise ValueError(f"meeting '{meeting_key}' is already cancelled")
    _refuse_if_at_stake(session, cohort, meeting, _cancelled, CANCEL, now)
    meeting.status = "cancelled"
    plan = _revise_meeting(session, cohort, meeting, delivery_kinds.MEETING_CANCELLATION, now)
    activity.log_activity(session, cohort_id, actor, activity.MEETING_CANCELLED, {
        "meeting": meeting_key, "title": meeting.title, "was": meeting.starts_at.isoformat(),
    }, now)
    return plan


def restore_meeting(session: Session, cohort_id: int, meeting_key: str, actor: User | None,
                    now: datetime | None = None) -> Plan:
    """Undo a cancellation (a mistake, or the meeting happens after all), logged: the meeting
    and what hangs on it are back in the plan; invitations the cancellation stopped go out,
    and whoever was sent one gets the meeting again (an update with a higher SEQUENCE puts it
    back in their calendar)."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    meeting = get_meeting(session, cohort_id, meeting_key)
    if meeting.status != "cancelled":
        raise ValueError(f"meeting '{meeting_key}' is not cancelled")
    meeting.status = "scheduled"
    plan = _revise_meeting(session, cohort, meeting, delivery_kinds.MEETING_UPDATE, now)
    revive_meeting_invitations(session, cohort_id, meeting_key, now)
    activity.log_activity(session, cohort_id, actor, activity.MEETING_RESTORED, {
        "meeting": meeting_key, "title": meeting.title, "at": meeting.starts_at.isoformat(),
    }, now)
    return plan


def _revise_meeting(session: Session, cohort: Cohort, meeting: Meeting, notice_kind: str,
                    now: datetime) -> Plan:
    """After a change to one meeting's row: SEQUENCE up, the cohort re-planned, and a notice
    queued for everyone already sent the meeting's invitation."""
    meeting.revise(now)
    session.flush()
    plan = replan(session, cohort, now)
    queue_meeting_notices(session, cohort.id, meeting.key, notice_kind, meeting.sequence, now)
    return plan


def replan(session: Session, cohort: Cohort, now: datetime) -> Plan:
    """Recompute the plan and bring rows in line; only pending deliveries (and those an
    earlier replan dropped) ever change."""
    plan = current_plan(session, cohort)
    sync_plan(session, cohort.id, plan)
    every = _replanned_deliveries(session, cohort, plan, now) + plan_facilitator_deliveries(plan)
    wanted = {d.natural_key: d for d in every if d.kind in delivery_kinds.REPLANNED_KINDS}
    replannable = session.scalars(select(Delivery).where(
        Delivery.cohort_id == cohort.id,
        (Delivery.state == "pending")
        | ((Delivery.state == "cancelled") & (Delivery.last_error == PLAN_DROPPED))
        | ((Delivery.state == "skipped") & Delivery.last_error.startswith(POLICY_SKIPPED)),
        Delivery.kind.in_(delivery_kinds.REPLANNED_KINDS), Delivery.resend_number == 0,
    )).all()
    for row in replannable:
        planned = wanted.get((row.kind, row.anchor, row.recipient))
        if planned is None:
            row.state, row.last_error = "cancelled", PLAN_DROPPED
            continue
        if planned.skip:
            row.state, row.last_error = "skipped", POLICY_SKIPPED + planned.skip
            continue
        if row.state != "pending":
            row.state, row.last_error = "pending", None
        if planned.send_at != row.send_at:
            row.send_at = planned.send_at
    existing = {tuple(row) for row in session.execute(
        select(Delivery.kind, Delivery.anchor, Delivery.recipient)
        .where(Delivery.cohort_id == cohort.id))}
    participant_ids = {email: pid for email, pid in session.execute(
        select(Participant.email, Participant.id).where(Participant.cohort_id == cohort.id))}
    insert_deliveries(session, cohort.id, [d for k, d in wanted.items() if k not in existing],
                       participant_ids)
    return plan


def _replanned_deliveries(session: Session, cohort: Cohort, plan: Plan,
                          now: datetime) -> list:
    """The plan's participant emails, planned around each person's first emails as they
    were planned: the mail policy put the day's other items into the welcome's email (or on
    another day because of it), so the welcome stays in the schedule at its own time (the
    launch, or when someone joined later; `now` for a draft, which launch dates again)."""
    emails = list(session.scalars(select(Participant.email).where(
        Participant.cohort_id == cohort.id, Participant.erased_at.is_(None))))
    welcomed = dict(session.execute(select(Delivery.recipient, Delivery.send_at).where(
        Delivery.cohort_id == cohort.id, Delivery.kind == delivery_kinds.WELCOME,
        Delivery.anchor == "cohort", Delivery.resend_number == 0)).all())
    by_time: dict[datetime, list[str]] = {}
    default = cohort.launched_at or now
    for email in emails:
        by_time.setdefault(welcomed.get(email, default) if cohort.launched_at else now,
                           []).append(email)
    return [d for first, people in by_time.items()
            for d in plan_deliveries(plan, people, first)]


def set_initial_overrides(session: Session, cohort: Cohort,
                          overrides: dict[str, MeetingOverride], now: datetime) -> Plan | None:
    """Overrides chosen while creating a cohort: stored like later ones, SEQUENCE stays 0."""
    meetings = {m.key: m for m in session.scalars(
        select(Meeting).where(Meeting.cohort_id == cohort.id))}
    changed = False
    for key, override in overrides.items():
        meeting = meetings.get(key)
        if meeting is None:
            continue
        if override.starts_at is not None and override.starts_at != meeting.starts_at:
            meeting.override_starts_at = override.starts_at
            changed = True
        if override.location is not None and override.location != (meeting.location or ""):
            meeting.override_location = override.location
            changed = True
        if override.online_url is not None and override.online_url != (meeting.online_url or ""):
            meeting.override_online_url = override.online_url
            changed = True
    if not changed:
        return None
    session.flush()
    return replan(session, cohort, now)
