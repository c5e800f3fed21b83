"""Which emails a cohort needs, to whom and when: the outbox's plan, as plain data.

Each delivery has a natural key (kind, anchor, recipient) so that re-planning after a change
finds the same rows again instead of creating duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .mailpolicy import MailItem, MailPolicy, schedule_mail
from .planning import Plan, local_datetime

# Kinds of delivery, in the order a participant meets them.
WELCOME = "welcome"
MEETING_INVITATION = "meeting_invitation"
TASK_RELEASED = "task_released"
TASK_REMINDER = "task_reminder"
PROMPT = "prompt"
SURVEY_INVITATION = "survey_invitation"
SURVEY_REMINDER = "survey_reminder"
# Sent when a meeting the participant was already invited to moves or is cancelled.
MEETING_UPDATE = "meeting_update"
MEETING_CANCELLATION = "meeting_cancellation"
# Sent when groups a participant was already told about change: their new buddy or group
# (services/group_changes.py). Anchored `groups:GROUPING#N`, N counting the changes. Like the
# catch-up (core/attendance.py) it is not planned, so it is not in KINDS.
GROUPS_CHANGED = "groups_changed"
# A facilitator's message to participants (services/announcements.py), anchored
# `announcement:ID`, and a facilitator's nudge from the progress grid ("remind these",
# services/progress.py), anchored `progress:N` (N counting the cohort's nudges). Neither is
# planned: they travel in the participant's next bundled email (core/progress.py).
ANNOUNCEMENT = "announcement"
PROGRESS_REMINDER = "progress_reminder"
# To the facilitator, before each meeting: what participants sent in since the last one.
FACILITATOR_DIGEST = "facilitator_digest"
KINDS = (WELCOME, MEETING_INVITATION, MEETING_UPDATE, MEETING_CANCELLATION, TASK_RELEASED,
         TASK_REMINDER, PROMPT, SURVEY_INVITATION, SURVEY_REMINDER, FACILITATOR_DIGEST)
# Kinds whose send time follows the plan: re-planning moves or cancels their pending rows.
# Welcome, invitations and notices go out when the change that causes them happens.
REPLANNED_KINDS = (TASK_RELEASED, TASK_REMINDER, PROMPT, SURVEY_INVITATION, SURVEY_REMINDER,
                   FACILITATOR_DIGEST)

# The digest's recipient is resolved when sending (the cohort's facilitator address).
FACILITATOR = "facilitator"
# Default timing of the digest: the day before each meeting at 14:00 local time, after the
# "questions for the next meeting" task is due (the day before at 12:00 in the reference).
DIGEST_DAYS_BEFORE = 1
DIGEST_AT = time(14, 0)

# States of a row (see models/deliveries.py).
PENDING = "pending"
# Reserved by a dispatcher in a batch, not yet handed to the mail server (cohort/mail/dispatch.py).
CLAIMED = "claimed"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
NEEDS_REVIEW = "needs_review"
CANCELLED = "cancelled"
SKIPPED = "skipped"
STATES = (PENDING, CLAIMED, SENDING, SENT, FAILED, NEEDS_REVIEW, CANCELLED, SKIPPED)


@dataclass(frozen=True)
class PlannedDelivery:
    kind: str
    anchor: str
    recipient: str
    send_at: datetime
    # Why the mail policy skips it (no allowed time while it is useful): stored as skipped.
    skip: str | None = None

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.kind, self.anchor, self.recipient)


def plan_deliveries(plan: Plan, recipients: Iterable[str], now: datetime,
                    policy: MailPolicy | None | bool = True) -> list[PlannedDelivery]:
    """Every email of the plan for each recipient; welcome and invitations are due `now`.

    Re-planning a launched cohort passes the time its first emails went as `now` and keeps
    them in: the welcome is part of its day's email, so leaving it out would move the items
    the policy planned around it (services/meetings.py `replan`).

    Send times follow the plan's mail policy (`core.mailpolicy`: quiet hours and days, one
    email a day); `policy=None` keeps the plan's own times (the behaviour before the policy,
    kept for comparison in benchmarks/mail_policy.py). Items are the same for every participant,
    so the schedule is computed once.
    """
    chosen = plan.mail if policy is True else policy or None
    schedule = schedule_mail(mail_items(plan, now), chosen)
    times, skips = schedule.send_times(), schedule.skip_reasons()
    rows = [(kind, anchor, times.get((kind, anchor), at), skips.get((kind, anchor)))
            for kind, anchor, at in _schedule(plan, now)]
    return [
        PlannedDelivery(kind, anchor, recipient, send_at, skip)
        for recipient in recipients
        for kind, anchor, send_at, skip in rows
    ]


def mail_items(plan: Plan, now: datetime) -> list[MailItem]:
    """The plan's participant emails with what the policy needs: how early each may go and
    when it stops being useful."""
    meetings = {m.key: m for m in plan.meetings}
    items: list[MailItem] = []
    tasks = {f"task:{t.key}": t for t in plan.tasks}
    prompts = {f"prompt:{p.key}": p for p in plan.prompts}
    surveys = {f"survey:{s.key}": s for s in plan.surveys}
    for kind, anchor, at in _schedule(plan, now):
        order = _ORDER[kind]
        if kind == WELCOME:
            items.append(MailItem(kind, anchor, at, at, order=order))
        elif kind == MEETING_INVITATION:
            meeting = meetings[meeting_key_of(anchor)]
            items.append(MailItem(kind, anchor, at, at, meeting.starts_at, alone=True,
                                  order=order))
        elif kind == TASK_RELEASED:
            task = tasks[anchor]
            items.append(MailItem(kind, anchor, at, at, task.due_at, order=order))
        elif kind == TASK_REMINDER:
            task = tasks[anchor]
            items.append(MailItem(kind, anchor, at, task.release_at, task.due_at,
                                  follows=first_email_of(kind, anchor), order=order,
                                  gathers=True))
        elif kind == PROMPT:
            prompt = prompts[anchor]
            meeting = meetings.get(prompt.meeting_key)
            if meeting is not None and at < meeting.starts_at:  # a question before a meeting
                items.append(MailItem(kind, anchor, at, at - timedelta(days=7),
                                      meeting.starts_at, order=order, gathers=True))
            else:  # a question after a meeting: not before it
                items.append(MailItem(kind, anchor, at, at, order=order))
        elif kind == SURVEY_INVITATION:
            survey = surveys[anchor]
            items.append(MailItem(kind, anchor, at, at, survey.closes_at, order=order))
        elif kind == SURVEY_REMINDER:
            base = anchor.split("#", 1)[0]
            survey = surveys[base]
            items.append(MailItem(kind, anchor, at, survey.opens_at, survey.closes_at,
                                  follows=first_email_of(kind, anchor), order=order,
                                  gathers=True))
    return items


def _schedule(plan: Plan, now: datetime) -> list[tuple[str, str, datetime]]:
    items: list[tuple[str, str, datetime]] = [(WELCOME, "cohort", now)]
    for meeting in plan.meetings:
        if not meeting.cancelled:
            items.append((MEETING_INVITATION, f"meeting:{meeting.key}", now))
    for task in plan.tasks:
        items.append((TASK_RELEASED, f"task:{task.key}", task.release_at))
        if task.reminder_at is not None:
            items.append((TASK_REMINDER, f"task:{task.key}", task.reminder_at))
    for prompt in plan.prompts:
        items.append((PROMPT, f"prompt:{prompt.key}", prompt.send_at))
    for survey in plan.surveys:
        items.append((SURVEY_INVITATION, f"survey:{survey.key}", survey.opens_at))
        for number, reminder_at in enumerate(survey.reminders, start=1):
            items.append((SURVEY_REMINDER, f"survey:{survey.key}#{number}", reminder_at))
    return items


_ORDER = {kind: n for n, kind in enumerate(
    (WELCOME, MEETING_INVITATION, SURVEY_INVITATION, TASK_RELEASED, PROMPT, TASK_REMINDER,
     SURVEY_REMINDER))}


def plan_facilitator_deliveries(plan: Plan) -> list[PlannedDelivery]:
    """One digest per meeting that takes place, the day before it at 14:00 local time."""
    zone = ZoneInfo(plan.timezone)
    planned = []
    for meeting in plan.meetings:
        if meeting.cancelled:
            continue
        day = meeting.starts_at.astimezone(zone).date() - timedelta(days=DIGEST_DAYS_BEFORE)
        planned.append(PlannedDelivery(FACILITATOR_DIGEST, f"meeting:{meeting.key}",
                                       FACILITATOR, local_datetime(day, DIGEST_AT, zone)))
    return planned


def meeting_key_of(anchor: str) -> str | None:
    """'meeting:webinar-2' or 'meeting:webinar-2#3' -> 'webinar-2'."""
    if not anchor.startswith("meeting:"):
        return None
    return anchor.removeprefix("meeting:").split("#", 1)[0]


# A reminder's first email: the task's release, the survey's invitation (same item, same person).
FIRST_EMAILS = {TASK_REMINDER: TASK_RELEASED, SURVEY_REMINDER: SURVEY_INVITATION}


def first_email_of(kind: str, anchor: str) -> tuple[str, str] | None:
    """(kind, anchor) of the email a reminder reminds of, None for other kinds:
    ('survey_reminder', 'survey:final#2') -> ('survey_invitation', 'survey:final'). The
    mail policy (`MailItem.follows`) and the outbox (mail/outbox/) never send a reminder
    when that first email is not sent: never remind of something never told about."""
    first = FIRST_EMAILS.get(kind)
    return None if first is None else (first, anchor.split("#", 1)[0])


def item_key_of(anchor: str) -> str:
    """'task:questions@kickoff' -> 'questions@kickoff'; 'survey:final#2' -> 'final'."""
    return anchor.split(":", 1)[-1].split("#", 1)[0]


# Kinds a participant gets together with the others due at the same time (core/mailpolicy.py):
# the dispatcher sends such rows of one recipient with one send time as one email.
BUNDLED_KINDS = (WELCOME, TASK_RELEASED, TASK_REMINDER, PROMPT, SURVEY_INVITATION,
                 SURVEY_REMINDER, "catch_up", ANNOUNCEMENT, PROGRESS_REMINDER, GROUPS_CHANGED)


def bundle_key(cohort_id: int, kind: str, recipient: str, send_at: datetime,
               resend_number: int = 0) -> tuple | None:
    """Which email a row travels in: rows with the same key are one message (None: alone).
    A resend is always alone: the facilitator asked for that one email again."""
    if kind not in BUNDLED_KINDS or resend_number:
        return None
    return (cohort_id, recipient, send_at)


def emails_per_recipient(planned: Iterable[PlannedDelivery],
                         bundled: bool = True) -> dict[str, int]:
    """How many emails each recipient will receive from these planned rows (a bundle counts
    once unless `bundled` is false, the outbox before bundling; skipped rows not at all)."""
    seen: dict[str, set] = {}
    for n, delivery in enumerate(planned):
        if delivery.skip:
            continue
        key = (bundled and bundle_key(0, delivery.kind, delivery.recipient, delivery.send_at)) \
            or n
        seen.setdefault(delivery.recipient, set()).add(key)
    return {recipient: len(keys) for recipient, keys in seen.items()}
