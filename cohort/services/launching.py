"""Launching a draft cohort: what it will send, and the launch itself.

A new cohort is a draft (`Cohort.launched_at` is None): the facilitator can import people,
move meetings and plan groups while the outbox claims none of its rows (mail/dispatch.py).
`launch_forecast` tells what launching now will send in the next 14 days and what the outbox
will skip; `launch_cohort` re-dates the emails that were due "at once" to the launch
(core.launching.send_at_after_launch) under the mail policy (catch-ups marked in the draft go
inside the welcome), sets `launched_at` and logs the launch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.attendance import CATCH_UP
from ..core.launching import DUE_AT_LAUNCH, HORIZON, LaunchForecast, PendingEmail, forecast_launch
from ..models import Cohort, Delivery, Meeting, Prompt, Survey, Task, TaskStatus, User, utcnow
from . import activity
from ._lookup import get_cohort
from .plans import POLICY_SKIPPED, apply_mail_policy, policy_times
from .survey_responses import answered_surveys


class AlreadyLaunched(Exception):
    """The cohort was launched before."""


def launch_forecast(session: Session, cohort_id: int, now: datetime, *,
                    overdue_limit: timedelta, horizon: timedelta = HORIZON) -> LaunchForecast:
    """What launching the cohort at `now` will send within `horizon`, and what it will skip."""
    cohort = get_cohort(session, cohort_id)
    return forecast_launch(_pending_emails(session, cohort_id, policy_times(session, cohort, now)),
                           now,
                           overdue_limit=overdue_limit, horizon=horizon)


def launch_cohort(session: Session, cohort_id: int, actor: User | None, now: datetime | None = None,
                  *, overdue_limit: timedelta | None = None) -> Cohort:
    """Start the cohort's outbox. The emails due at once (welcome, invitations, notices,
    catch-ups) are due at the launch; the activity log records the launch with the forecast
    (when `overdue_limit` is given, as the web and the CLI do)."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    if cohort.launched_at is not None:
        raise AlreadyLaunched(f"cohort {cohort_id} was launched on {cohort.launched_at:%Y-%m-%d}")
    details: dict = {}
    if overdue_limit is not None:
        forecast = launch_forecast(session, cohort_id, now, overdue_limit=overdue_limit)
        details = {"sending": forecast.sending_total, "skipped": forecast.skipped_total,
                   "recipients": forecast.recipients}
    # The planned emails, welcome and invitations included, go when the mail policy allows;
    # notices of changes and catch-ups go at once.
    apply_mail_policy(session, cohort, now)
    session.execute(update(Delivery).where(
        Delivery.cohort_id == cohort_id, Delivery.state == kinds.PENDING,
        Delivery.kind.in_(DUE_AT_LAUNCH), Delivery.send_at < now).values(send_at=now))
    _catch_ups_with_the_welcome(session, cohort_id)
    cohort.launched_at = now
    session.add(cohort)
    session.flush()
    activity.log_activity(session, cohort_id, actor, activity.COHORT_LAUNCHED,
                          details, now)
    return cohort


def _catch_ups_with_the_welcome(session: Session, cohort_id: int) -> None:
    """Catch-ups marked while the cohort was a draft go with each person's welcome, which the
    mail policy has just timed: in the same email, within working hours."""
    welcomes = dict(session.execute(select(Delivery.recipient, Delivery.send_at).where(
        Delivery.cohort_id == cohort_id, Delivery.kind == kinds.WELCOME,
        Delivery.anchor == "cohort", Delivery.state == kinds.PENDING,
        Delivery.resend_number == 0)).all())
    for row in session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == CATCH_UP,
            Delivery.state == kinds.PENDING, Delivery.attempts == 0)):
        welcome_at = welcomes.get(row.recipient)
        if welcome_at is not None and row.send_at < welcome_at:
            row.send_at = welcome_at
    session.flush()


def _pending_emails(session: Session, cohort_id: int,
                    times: dict[tuple[str, str], tuple[datetime, str | None]] | None = None,
                    ) -> list[PendingEmail]:
    """The cohort's pending rows with the deadline and "settled" the dispatcher will use
    (mail/compose.py `_subject_of`), at the time the mail policy gives them (`times`, from
    `plans.policy_times`, for never-tried rows)."""
    meetings = {m.key: m for m in session.scalars(
        select(Meeting).where(Meeting.cohort_id == cohort_id))}
    tasks = {t.key: t for t in session.scalars(select(Task).where(Task.cohort_id == cohort_id))}
    prompts = {p.key: p for p in session.scalars(
        select(Prompt).where(Prompt.cohort_id == cohort_id))}
    surveys = {s.key: s for s in session.scalars(
        select(Survey).where(Survey.cohort_id == cohort_id))}
    # Pending rows, and those the mail policy skipped when planning: the launch plans again.
    rows = list(session.scalars(select(Delivery).where(
        Delivery.cohort_id == cohort_id,
        (Delivery.state == kinds.PENDING) | ((Delivery.state == kinds.SKIPPED)
                                             & Delivery.last_error.startswith(POLICY_SKIPPED)))))
    people = sorted({d.participant_id for d in rows if d.participant_id})
    done: set[tuple[int, int]] = set()
    answered: dict[int, set[int]] = {}
    if people:
        done = set(session.execute(select(TaskStatus.participant_id, TaskStatus.task_id).where(
            TaskStatus.participant_id.in_(people), TaskStatus.done_at.is_not(None))).all())
        answered = answered_surveys(session, people)
    scheduled = sorted((m for m in meetings.values() if m.status != "cancelled"),
                       key=lambda m: m.starts_at)

    def judged(row: Delivery) -> tuple[datetime | None, bool]:
        kind, anchor, pid = row.kind, row.anchor, row.participant_id
        if kind == CATCH_UP:
            missed = meetings.get(anchor.split(":", 1)[-1])
            following = next((m for m in scheduled if missed is not None
                              and m.starts_at > missed.starts_at), None)
            return (following.starts_at if following else None), False
        if kinds.meeting_key_of(anchor) is not None:
            meeting = meetings.get(kinds.meeting_key_of(anchor))
            return (meeting.starts_at if meeting else None), False
        key = kinds.item_key_of(anchor)
        if kind in (kinds.TASK_RELEASED, kinds.TASK_REMINDER) and key in tasks:
            task = tasks[key]
            return task.due_at, (pid, task.id) in done
        if kind == kinds.PROMPT and key in prompts:
            prompt = prompts[key]
            meeting = meetings.get(prompt.meeting_key)
            before = meeting is not None and prompt.send_at <= meeting.starts_at
            return (meeting.starts_at if before else None), False
        if kind in (kinds.SURVEY_INVITATION, kinds.SURVEY_REMINDER) and key in surveys:
            survey = surveys[key]
            return survey.closes_at, survey.id in answered.get(pid, set())
        return None, False

    def title(row: Delivery) -> str:
        meeting_key = kinds.meeting_key_of(row.anchor)
        if meeting_key is not None or row.kind == CATCH_UP:
            meeting = meetings.get(meeting_key or row.anchor.split(":", 1)[-1])
            return meeting.title if meeting else ""
        found = {kinds.TASK_RELEASED: tasks, kinds.TASK_REMINDER: tasks,
                 kinds.SURVEY_INVITATION: surveys, kinds.SURVEY_REMINDER: surveys,
                 }.get(row.kind, {}).get(kinds.item_key_of(row.anchor))
        if row.kind == kinds.PROMPT and kinds.item_key_of(row.anchor) in prompts:
            found = meetings.get(prompts[kinds.item_key_of(row.anchor)].meeting_key)
        return getattr(found, "title", "") or ""

    emails = []
    for row in rows:
        deadline, settled = judged(row)
        send_at, skip = row.send_at, row.last_error if row.state == kinds.SKIPPED else None
        if times and row.attempts == 0 and row.resend_number == 0 \
                and (row.kind, row.anchor) in times:
            send_at, skip = times[row.kind, row.anchor]
        elif times and row.kind == CATCH_UP and row.attempts == 0 \
                and (kinds.WELCOME, "cohort") in times:  # with the welcome, as at launch
            send_at = max(send_at, times[kinds.WELCOME, "cohort"][0])
        emails.append(PendingEmail(row.kind, row.recipient, send_at, row.attempts,
                                   deadline, settled, row.anchor, title(row), skip))
    return emails
