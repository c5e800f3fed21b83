"""Which emails a cohort needs, to whom and when: the outbox's plan, as plain data.

Each delivery has a natural key (kind, anchor, recipient) so that re-planning after a change
finds the same rows again instead of creating duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .planning import Plan

# Kinds of delivery, in the order a participant meets them.
WELCOME = "welcome"
MEETING_INVITATION = "meeting_invitation"
TASK_RELEASED = "task_released"
TASK_REMINDER = "task_reminder"
PROMPT = "prompt"
SURVEY_INVITATION = "survey_invitation"
SURVEY_REMINDER = "survey_reminder"
KINDS = (WELCOME, MEETING_INVITATION, TASK_RELEASED, TASK_REMINDER, PROMPT, SURVEY_INVITATION,
         SURVEY_REMINDER)


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
