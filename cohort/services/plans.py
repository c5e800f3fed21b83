"""A cohort's stored plan: its dated meetings, tasks, prompts and surveys, and the planned emails.

The plan is computed by the core (`core.planning.plan_cohort`) from the programme snapshot and
the facilitator's per-meeting overrides; this module reads the overrides back and writes the
plan's rows. Cohort creation (services/cohorts.py) writes a plan once; meeting changes
(services/meetings.py) sync it in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.calendars import new_uid
from ..core.deliveries import PlannedDelivery, plan_deliveries
from ..core.holidays_calendar import holiday_country
from ..core.mailpolicy import MailPolicy, extra_item_time, policy_from_settings
from ..core.planning import MeetingOverride, Plan, plan_cohort
from ..models import Cohort, Delivery, Meeting, Prompt, Survey, Task
from ._lookup import cohort_programme


def current_plan(session: Session, cohort: Cohort,
                 meetings: Sequence[Meeting] | None = None) -> Plan:
    """The cohort's plan with the facilitator's overrides applied (`meetings`: all of the
    cohort's meeting rows, if the caller has them, saves reading them again)."""
    return plan_cohort(cohort_programme(cohort), cohort.start_date, cohort.timezone,
                       meeting_overrides(session, cohort, meetings))


def mail_policy(cohort: Cohort) -> MailPolicy:
    """The cohort's mail policy (its programme's `mail:` block, in the cohort's zone and
    holidays), as `plan_cohort` puts it in the plan, without planning the whole cohort."""
    programme = cohort_programme(cohort)
    return policy_from_settings(programme.mail, cohort.timezone,
                                holiday_country(cohort.timezone, programme.language))


# A row that has gone out or will: it takes its recipient's day (core.mailpolicy).
_TAKING_A_DAY = ("pending", "claimed", "sending", "sent", "needs_review")


def extra_item_times(session: Session, cohort: Cohort, recipients: list[str],
                     earliest: datetime, deadline: datetime | None) -> dict[str, datetime | None]:
    """When an item nobody planned (a catch-up, a "your new buddy" notice) goes to each of
    `recipients`: from `earliest`, as the mail policy allows, inside that person's email of
    the day when one is still to go (core.mailpolicy.extra_item_time, given the times of
    their other bundled emails); None when no allowed time is left before `deadline`."""
    policy = mail_policy(cohort)
    taken: dict[str, list[datetime]] = {email: [] for email in recipients}
    at = func.coalesce(Delivery.sent_at, Delivery.send_at)
    for recipient, moment in session.execute(select(Delivery.recipient, at).where(
            Delivery.cohort_id == cohort.id, Delivery.recipient.in_(recipients),
            Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.resend_number == 0,
            Delivery.state.in_(_TAKING_A_DAY), at >= earliest - timedelta(days=1))):
        taken[recipient].append(moment)
    return {email: extra_item_time(policy, earliest, deadline, taken[email])
            for email in recipients}


def meeting_overrides(session: Session, cohort: Cohort,
                      meetings: Sequence[Meeting] | None = None) -> dict[str, MeetingOverride]:
    """The facilitator's stored changes per meeting key (what-if previews start from these)."""
    if meetings is None:
        meetings = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort.id)).all()
    return {
        m.key: MeetingOverride(
            starts_at=m.override_starts_at,
            location=m.override_location,
            online_url=m.override_online_url,
            cancelled=m.status == "cancelled",
        )
        for m in meetings
    }


def write_plan(session: Session, cohort_id: int, plan: Plan, now: datetime) -> None:
    bulk_insert(session, Meeting, [
        dict(cohort_id=cohort_id, key=m.key, kind=m.kind, title=m.title, format=m.format,
             position=i, starts_at=m.starts_at, ends_at=m.ends_at, location=m.location,
             online_url=m.online_url, uid=new_uid(), updated_at=now)
        for i, m in enumerate(plan.meetings)
    ])
    bulk_insert(session, Task, [_task_row(cohort_id, t) for t in plan.tasks])
    bulk_insert(session, Prompt, [_prompt_row(cohort_id, p) for p in plan.prompts])
    bulk_insert(session, Survey, [_survey_row(cohort_id, s) for s in plan.surveys])


def _task_row(cohort_id: int, t) -> dict:
    return dict(cohort_id=cohort_id, key=t.key, template_key=t.template_key, kind=t.kind,
                title=t.title, description=t.description, meeting_key=t.meeting_key,
                due_meeting_key=t.due_meeting_key, release_at=t.release_at, due_at=t.due_at,
                reminder_at=t.reminder_at)


def _prompt_row(cohort_id: int, p) -> dict:
    return dict(cohort_id=cohort_id, key=p.key, template_key=p.template_key,
                meeting_key=p.meeting_key, question=p.question, send_at=p.send_at)


def _survey_row(cohort_id: int, s) -> dict:
    return dict(cohort_id=cohort_id, key=s.key, template_key=s.template_key, title=s.title,
                mode=s.mode, meeting_key=s.meeting_key, opens_at=s.opens_at,
                closes_at=s.closes_at)


def sync_plan(session: Session, cohort_id: int, plan: Plan) -> None:
    """Update dated rows in place by key; rows whose item left the plan are removed."""
    for position, m in enumerate(plan.meetings):
        session.execute(update(Meeting).where(
            Meeting.cohort_id == cohort_id, Meeting.key == m.key
        ).values(starts_at=m.starts_at, ends_at=m.ends_at, position=position,
                 location=m.location, online_url=m.online_url))
    for model, planned, row in ((Task, plan.tasks, _task_row), (Prompt, plan.prompts, _prompt_row),
                                (Survey, plan.surveys, _survey_row)):
        rows = {r["key"]: r for r in (row(cohort_id, item) for item in planned)}
        stored = set(session.scalars(select(model.key).where(model.cohort_id == cohort_id)))
        for key in stored - rows.keys():
            session.execute(delete(model).where(model.cohort_id == cohort_id, model.key == key))
        for key, values in rows.items():
            if key in stored:
                session.execute(update(model).where(
                    model.cohort_id == cohort_id, model.key == key).values(**values))
        bulk_insert(session, model, [v for k, v in rows.items() if k not in stored])


# The last_error of a row the mail policy skipped (no allowed time while it was useful): a
# later re-plan may bring it back, as it brings back rows it dropped itself.
POLICY_SKIPPED = "skipped by the mail policy: "


def insert_deliveries(
    session: Session, cohort_id: int, planned: Iterable[PlannedDelivery], ids: dict[str, int]
) -> None:
    rows = delivery_rows(cohort_id, planned)
    for row in rows:
        row["participant_id"] = ids.get(row["recipient"])
    bulk_insert(session, Delivery, rows)


def delivery_rows(cohort_id: int, planned: Iterable[PlannedDelivery]) -> list[dict]:
    """The outbox rows of planned deliveries (skipped where the mail policy skips them);
    `participant_id` still None."""
    return [dict(cohort_id=cohort_id, participant_id=None, kind=d.kind, anchor=d.anchor,
                 recipient=d.recipient, send_at=d.send_at,
                 state=kinds.SKIPPED if d.skip else kinds.PENDING,
                 last_error=POLICY_SKIPPED + d.skip if d.skip else None, attempts=0)
            for d in planned]


def policy_times(session: Session, cohort: Cohort,
                 now: datetime) -> dict[tuple[str, str], tuple[datetime, str | None]]:
    """(kind, anchor) -> (send time, skip reason) of the cohort's participant emails under its
    mail policy when its first emails go at `now` (the same for every participant)."""
    plan = current_plan(session, cohort)
    return {(d.kind, d.anchor): (d.send_at, d.skip)
            for d in plan_deliveries(plan, ["-"], now)}


def apply_mail_policy(session: Session, cohort: Cohort, now: datetime) -> int:
    """At launch: every never-tried planned row gets its time under the mail policy with the
    first emails going now (the welcome of a cohort launched on a Sunday evening goes on
    Monday morning), or is skipped. Returns how many rows the policy skipped."""
    times = policy_times(session, cohort, now)
    # One UPDATE per planned email (every participant's copy has the same time), not every row
    # loaded as an object: a 5,000-person cohort has half a million of them.
    skipped = 0
    for (kind, anchor), (send_at, skip) in sorted(times.items()):
        change = (dict(state=kinds.SKIPPED, last_error=POLICY_SKIPPED + skip) if skip
                  else dict(state=kinds.PENDING, last_error=None, send_at=send_at))
        result = session.execute(update(Delivery).where(
            Delivery.cohort_id == cohort.id, Delivery.kind == kind, Delivery.anchor == anchor,
            Delivery.attempts == 0, Delivery.resend_number == 0,
            (Delivery.state == kinds.PENDING) | ((Delivery.state == kinds.SKIPPED)
                                                 & Delivery.last_error.startswith(POLICY_SKIPPED)),
        ).values(**change).execution_options(synchronize_session="fetch"))
        if skip:
            skipped += result.rowcount
    session.flush()
    return skipped


def bulk_insert(session: Session, model: type, rows: list[dict]) -> None:
    """Core insert(): an order of magnitude faster than ORM add_all for thousands of rows."""
    if rows:
        session.execute(insert(model), rows)
