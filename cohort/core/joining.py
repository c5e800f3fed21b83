"""What a late joiner missed: the items released before they joined that no email brings them.

Someone added to a running cohort has the whole plan planned for them (core/deliveries.py), so
the emails of items already past are days old, and the outbox skips them as overdue
(mail/outbox/claim.py `skip_overdue`, core/sending.py `skip_reason`) rather than flood them
with a dozen old emails. Their welcome names what was skipped so (`missed_before_joining`):
the group's tasks, reflection questions and the surveys still open, with their due dates, and
the next meeting, so they know what the group has done and that their page has it.

Worked out when the welcome is composed (sent or previewed), from the participant's first
emails as they are then: skipped, or still waiting but certain to be skipped by the outbox's
own rule (a paused cohort's outbox has not skipped them yet; its preview must say what the
welcome will say). Emails still to reach them are not listed: they come by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import deliveries as kinds
from .sending import skip_reason

# The first emails of an item, by what the welcome calls the item (reminders are not listed:
# they remind of an item listed by its first email).
ITEM_KINDS = {kinds.TASK_RELEASED: "task", kinds.PROMPT: "prompt",
              kinds.SURVEY_INVITATION: "survey"}


@dataclass(frozen=True)
class PlannedItem:
    """A task, prompt or survey of the cohort's plan, by its first email's (kind, anchor)."""

    kind: str  # task_released | prompt | survey_invitation
    anchor: str  # task:KEY | prompt:KEY | survey:KEY
    title: str  # a prompt's question
    released_at: datetime  # release, send time, opening
    due_at: datetime | None  # a task's due time, a survey's closing; None for a prompt
    # When its email stops being useful (the outbox's `deadline`: a task's due time, a
    # survey's closing, the meeting a question comes before).
    deadline: datetime | None = None
    # The meeting it belongs to (a task or question after it, a question before it, its
    # evaluation): the welcome lists the items under their meetings.
    meeting_title: str = ""
    meeting_starts_at: datetime | None = None


@dataclass(frozen=True)
class FirstEmail:
    """One of the participant's outbox rows of a first email, as it is now."""

    kind: str
    anchor: str
    state: str
    send_at: datetime
    attempts: int = 0
    resend_number: int = 0


@dataclass(frozen=True)
class MissedItem:
    kind: str  # task | prompt | survey
    title: str
    released_at: datetime
    due_at: datetime | None
    meeting_title: str = ""
    meeting_starts_at: datetime | None = None


@dataclass(frozen=True)
class MissedSoFar:
    """The welcome's "already released before you joined" part."""

    items: tuple[MissedItem, ...]
    next_meeting_title: str | None = None
    next_meeting_starts_at: datetime | None = None


_KIND_ORDER = {"prompt": 0, "task": 1, "survey": 2}


def is_late_joiner(joined_at: datetime, launched_at: datetime | None) -> bool:
    """Added after the cohort was launched (a draft's people all start together)."""
    return launched_at is not None and joined_at > launched_at


def missed_before_joining(
    joined_at: datetime, launched_at: datetime | None, emails: Iterable[FirstEmail],
    items: Iterable[PlannedItem], meetings: Iterable[tuple[str, datetime]], now: datetime,
    overdue_limit: timedelta,
) -> MissedSoFar | None:
    """What the welcome of someone who joined at `joined_at` lists, or None (nothing: not a
    late joiner, or every item planned before they came still reaches them by email).

    An item is listed when its first email to them was planned before they joined and does
    not reach them: skipped, or never tried and skipped by the outbox at `now` by its rule
    (overdue by more than `overdue_limit`, or past its deadline). Surveys closed by `now`
    are left out (the late joiner is not invited to them). `meetings`: (title, start) of the
    meetings that take place; the first after `now` is named as the next."""
    if not is_late_joiner(joined_at, launched_at):
        return None
    plan = {(item.kind, item.anchor): item for item in items}
    missed = []
    for email in emails:
        item = plan.get((email.kind, email.anchor))
        if item is None or email.resend_number or email.send_at >= joined_at:
            continue
        if email.kind == kinds.SURVEY_INVITATION and (item.due_at is None or item.due_at <= now):
            continue
        if _not_reaching(email, item, now, overdue_limit):
            missed.append(MissedItem(ITEM_KINDS[email.kind], item.title, item.released_at,
                                     item.due_at, item.meeting_title, item.meeting_starts_at))
    if not missed:
        return None
    # Meeting by meeting (as the group met them), each meeting's items as they came.
    missed.sort(key=lambda m: (m.meeting_starts_at or m.released_at, m.meeting_title,
                               m.released_at, _KIND_ORDER[m.kind], m.title))
    upcoming = sorted((starts_at, title) for title, starts_at in meetings if starts_at > now)
    next_starts, next_title = upcoming[0] if upcoming else (None, None)
    return MissedSoFar(tuple(missed), next_title, next_starts)


def _not_reaching(email: FirstEmail, item: PlannedItem, now: datetime,
                  overdue_limit: timedelta) -> bool:
    if email.state == kinds.SKIPPED:
        return True
    if email.state in (kinds.PENDING, kinds.CLAIMED) and email.attempts == 0:
        return skip_reason(email.kind, email.send_at, now, deadline=item.deadline,
                           settled=False, overdue_limit=overdue_limit) is not None
    return False  # sent, being sent, failed or cancelled: not something the outbox skipped
