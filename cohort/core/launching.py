"""What launching a draft cohort will do, as pure functions: which emails go out in the
next days and which the outbox will skip.

A draft cohort's rows stay pending and unclaimed (mail/dispatch.py). At launch, the emails a
change causes at once (welcome, meeting invitations and notices, catch-ups) are due at the
launch instead of when the draft was edited; the planned ones (tasks, prompts, surveys,
digests) keep their times, so those already far past are skipped by the outbox's overdue
rule. The forecast applies `core.sending.skip_reason` exactly as the dispatcher will, and
names each item whose emails will be skipped (`LaunchForecast.skipped_items`).

A cohort created late is told the same before it has any participant: `planned_emails` makes
the pending emails of a plan for one stand-in recipient, with the deadlines the dispatcher
judges them by, so the forecast lists what every participant will miss.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import deliveries as kinds
from .attendance import CATCH_UP
from .deliveries import plan_deliveries, plan_facilitator_deliveries
from .planning import Plan
from .sending import skip_reason

# The emails whose send time is "when the change happened": at launch, that is the launch.
DUE_AT_LAUNCH = (kinds.WELCOME, kinds.MEETING_INVITATION, kinds.MEETING_UPDATE,
                 kinds.MEETING_CANCELLATION, CATCH_UP, kinds.GROUPS_CHANGED,
                 kinds.ANNOUNCEMENT, kinds.PROGRESS_REMINDER)
HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class PendingEmail:
    """One pending row, with what the dispatcher's skip rule needs (see mail/compose.py)."""

    kind: str
    recipient: str
    send_at: datetime
    attempts: int = 0
    deadline: datetime | None = None  # when it stops being useful
    settled: bool = False  # a reminder for something already done
    anchor: str = ""  # what it is about (task:KEY, survey:KEY#2, ...), to name what is skipped
    title: str = ""  # the title of what it is about, when known
    skip: str | None = None  # the mail policy skips it (core/mailpolicy.py)


@dataclass(frozen=True)
class SkippedItem:
    """The emails of one kind about one item that the outbox will skip instead of sending."""

    kind: str
    anchor: str
    title: str
    emails: int
    send_at: datetime  # the earliest planned send time among them


@dataclass(frozen=True)
class KindForecast:
    """One kind's share of the launch: `emails` counts the emails people get that are
    counted under this kind (an email with several items counts once, under the kind of its
    first item in `KIND_ORDER`); `items` counts this kind's items, `bundled` those of them
    that travel inside an email counted under another kind."""

    kind: str
    emails: int
    recipients: int
    first_at: datetime
    items: int = 0
    bundled: int = 0


@dataclass(frozen=True)
class LaunchForecast:
    """`sending`: per kind, what goes out within the horizon; `skipped`: per kind, what the
    outbox will skip (overdue or too late) instead of sending; `later`: pending emails after
    the horizon."""

    now: datetime
    horizon: timedelta
    sending: tuple[KindForecast, ...] = field(default_factory=tuple)
    skipped: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    later: int = 0
    recipients: int = 0  # distinct recipients of the emails within the horizon
    skipped_items: tuple[SkippedItem, ...] = field(default_factory=tuple)

    @property
    def sending_total(self) -> int:
        """The emails that will arrive: a bundle of several items is one."""
        return sum(k.emails for k in self.sending)

    @property
    def items_total(self) -> int:
        return sum(k.items for k in self.sending)

    @property
    def skipped_total(self) -> int:
        return sum(count for _kind, count in self.skipped)


def send_at_after_launch(kind: str, send_at: datetime, launched_at: datetime) -> datetime:
    """A row's send time once the cohort is launched at `launched_at`."""
    if kind in DUE_AT_LAUNCH and send_at < launched_at:
        return launched_at
    return send_at


# The order of kinds on the launch page; an email of several items counts under the first.
KIND_ORDER = (*kinds.KINDS, CATCH_UP, kinds.GROUPS_CHANGED, kinds.ANNOUNCEMENT,
              kinds.PROGRESS_REMINDER)


def forecast_launch(emails: Iterable[PendingEmail], now: datetime, *, overdue_limit: timedelta,
                    horizon: timedelta = HORIZON) -> LaunchForecast:
    """What launching at `now` will send within `horizon`, per kind, and what it will skip.

    An email is judged at the time it will be sent (its send time, or now when that is
    past), with the dispatcher's own rule; a reminder counts as sent unless already settled
    or its first email (to the same person) is skipped: a task released before a late
    launch is days overdue, and the outbox skips its reminders with it.
    The items that go are then put together as the dispatcher sends them (one recipient's
    bundled kinds with one send time are one email, `core.deliveries.bundle_key`), so the
    counts are of emails received, not of outbox rows.
    """
    order = {kind: n for n, kind in enumerate(KIND_ORDER)}
    sending: Counter[str] = Counter()
    messages: dict[object, list[str]] = defaultdict(list)
    recipients: dict[str, set[str]] = defaultdict(set)
    first: dict[str, datetime] = {}
    everyone: set[str] = set()
    skipped: Counter[str] = Counter()
    items: dict[tuple[str, str], list[PendingEmail]] = defaultdict(list)
    later = 0
    emails = list(emails)
    judged = [(email, _skipped(email, now, overdue_limit)) for email in emails]
    unsent = {(e.recipient, e.kind, e.anchor) for e, gone in judged
              if gone and e.kind in kinds.FIRST_EMAILS.values()}
    for email, gone in judged:
        reminds = kinds.first_email_of(email.kind, email.anchor)
        if email.skip or (reminds is not None and (email.recipient, *reminds) in unsent):
            # the mail policy's (core/mailpolicy.py), or a reminder of a first email skipped
            # as overdue, which the outbox skips with it (mail/outbox/claim.py)
            skipped[email.kind] += 1
            items[email.kind, email.anchor].append(email)
            continue
        send_at = send_at_after_launch(email.kind, email.send_at, now)
        if send_at > now + horizon:
            later += 1
            continue
        at = max(send_at, now)
        if gone:
            skipped[email.kind] += 1
            items[email.kind, email.anchor].append(email)
            continue
        sending[email.kind] += 1
        alone = ("alone", len(messages))  # a draft has no resends, which would go alone
        messages[kinds.bundle_key(0, email.kind, email.recipient, send_at) or alone].append(
            email.kind)
        recipients[email.kind].add(email.recipient)
        everyone.add(email.recipient)
        first[email.kind] = min(first.get(email.kind, at), at)
    led: Counter[str] = Counter(min(found, key=lambda k: order.get(k, len(order)))
                                for found in messages.values())
    return LaunchForecast(
        now=now, horizon=horizon,
        sending=tuple(KindForecast(kind, led[kind], len(recipients[kind]), first[kind],
                                   sending[kind], sending[kind] - led[kind])
                      for kind in sorted(sending, key=lambda k: order.get(k, len(order)))),
        skipped=tuple(sorted(skipped.items(), key=lambda item: order.get(item[0], len(order)))),
        later=later, recipients=len(everyone),
        skipped_items=tuple(sorted(
            (SkippedItem(kind, anchor, next((e.title for e in found if e.title), ""),
                         len(found), min(e.send_at for e in found))
             for (kind, anchor), found in items.items()),
            key=lambda i: (i.send_at, order.get(i.kind, len(order)), i.anchor))))


def _skipped(email: PendingEmail, now: datetime, overdue_limit: timedelta) -> bool:
    """Whether the outbox skips the email when launched at `now`: judged at the time it will
    be sent (its send time, or now when that is past) with the dispatcher's own rule."""
    if email.skip:
        return True
    send_at = send_at_after_launch(email.kind, email.send_at, now)
    limit = overdue_limit if email.attempts == 0 else timedelta.max
    return skip_reason(email.kind, send_at, max(send_at, now), deadline=email.deadline,
                       settled=email.settled, overdue_limit=limit) is not None


# The stand-in recipient of `planned_emails`.
EVERY_PARTICIPANT = "*"


def planned_emails(plan: Plan, now: datetime) -> list[PendingEmail]:
    """The emails a plan makes for one participant (`EVERY_PARTICIPANT`) and the
    facilitator, with the deadline and title of what each is about, as `mail/compose.py`
    judges them when sending (the welcome and invitations are due `now`)."""
    meetings = {m.key: m for m in plan.meetings}
    tasks = {t.key: t for t in plan.tasks}
    prompts = {p.key: p for p in plan.prompts}
    surveys = {s.key: s for s in plan.surveys}
    emails = []
    for planned in (plan_deliveries(plan, [EVERY_PARTICIPANT], now)
                    + plan_facilitator_deliveries(plan)):
        deadline, title = None, ""
        meeting_key = kinds.meeting_key_of(planned.anchor)
        key = kinds.item_key_of(planned.anchor)
        if meeting_key is not None and meeting_key in meetings:
            deadline, title = meetings[meeting_key].starts_at, meetings[meeting_key].title
        elif planned.kind in (kinds.TASK_RELEASED, kinds.TASK_REMINDER) and key in tasks:
            deadline, title = tasks[key].due_at, tasks[key].title
        elif planned.kind == kinds.PROMPT and key in prompts:
            meeting = meetings.get(prompts[key].meeting_key)
            title = meeting.title if meeting else ""
            if meeting is not None and prompts[key].send_at <= meeting.starts_at:
                deadline = meeting.starts_at
        elif planned.kind in (kinds.SURVEY_INVITATION, kinds.SURVEY_REMINDER) and key in surveys:
            deadline, title = surveys[key].closes_at, surveys[key].title
        emails.append(PendingEmail(planned.kind, planned.recipient, planned.send_at,
                                   deadline=deadline, anchor=planned.anchor, title=title,
                                   skip=planned.skip))
    return emails
