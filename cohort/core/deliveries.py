"""Which emails a cohort needs, to whom and when: the outbox's plan, as plain data.

Each delivery has a natural key (kind, anchor, recipient) so that re-planning after a change
finds the same rows again instead of creating duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

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

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.kind, self.anchor, self.recipient)


def plan_deliveries(plan: Plan, recipients: Iterable[str], now: datetime) -> list[PlannedDelivery]:
    """Every email of the plan for each recipient; welcome and invitations go out `now`."""
    schedule = _schedule(plan, now)
    return [
        PlannedDelivery(kind, anchor, recipient, send_at)
        for recipient in recipients
        for kind, anchor, send_at in schedule
    ]


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


def item_key_of(anchor: str) -> str:
    """'task:questions@kickoff' -> 'questions@kickoff'; 'survey:final#2' -> 'final'."""
    return anchor.split(":", 1)[-1].split("#", 1)[0]
