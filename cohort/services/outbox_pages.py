"""The facilitator's outbox page: the emails people get (`deliveries.outbox_emails`, one row per
email, bundled items inside), filtered, counted per state and cut into pages, with the titles
of the items they are about, so the page never shows raw keys such as `meeting:kickoff`.

Reminders of anonymous surveys stay out of every row and count here: `outbox_emails` leaves
them out (see the docstring of services/deliveries.py), and the page shows them as counts from
`outbox_view` only.

Grouping rows into emails follows the dispatcher's bundling (core.deliveries.bundle_key), which
is a Python function, so the cohort's rows are grouped in Python; the page then renders one
page of at most `PER_PAGE` emails, never the thousands a programme plans.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from ..core import deliveries as kinds
from ..models import Announcement, Delivery, Meeting, Prompt, Survey, Task, User
from . import activity
from .deliveries import OutboxEmail, get_delivery, outbox_emails

PER_PAGE = 50


@dataclass(frozen=True)
class OutboxFilters:
    """What the facilitator narrowed the list to (all optional; `start`/`end` in UTC, end
    exclusive). `kind` matches an email that carries an item of that kind."""

    kind: str | None = None
    state: str | None = None
    person: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def matches(self, email: OutboxEmail, *, with_state: bool = True) -> bool:
        if self.kind and self.kind != email.kind and all(d.kind != self.kind
                                                          for d in email.items):
            return False
        if with_state and self.state and email.state != self.state:
            return False
        if self.person and self.person.strip().lower() not in email.recipient.lower():
            return False
        if self.start and email.send_at < self.start:
            return False
        return not (self.end and email.send_at >= self.end)


@dataclass(frozen=True)
class OutboxPage:
    emails: list[OutboxEmail]  # this page's emails, in send order
    total: int  # emails matching the filters
    counts: dict[str, int]  # per state, over the filters other than the state
    page: int
    pages: int
    recipients: list[str]  # everyone with a listed email (for the person filter)
    titles: dict[str, str] = field(default_factory=dict)  # anchor -> title of its item

    @property
    def first(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return self.first + len(self.emails) - 1 if self.emails else 0


def outbox_page(session: Session, cohort_id: int, filters: OutboxFilters,
                page: int = 1, per_page: int = PER_PAGE) -> OutboxPage:
    """One page of the cohort's emails (NotFound for an unknown cohort). A page number past the
    end shows the last page."""
    every = outbox_emails(session, cohort_id)
    around = [e for e in every if filters.matches(e, with_state=False)]
    counts = Counter(e.state for e in around)
    chosen = [e for e in around if filters.matches(e)]
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(1, page), pages)
    shown = chosen[(page - 1) * per_page:page * per_page]
    anchors = {d.anchor for e in shown for d in e.items}
    return OutboxPage(shown, len(chosen), dict(counts), page, pages,
                      sorted({e.recipient for e in every}),
                      item_titles(session, cohort_id, anchors))


def item_titles(session: Session, cohort_id: int, anchors: set[str]) -> dict[str, str]:
    """'meeting:kickoff' -> 'Kick-off webinar', 'task:questions@kickoff' -> the task's title,
    'survey:final#2' -> the survey's, a prompt's -> its meeting's; unknown anchors are left
    out (the page then shows the kind only)."""
    if not anchors:
        return {}
    meetings = dict(session.execute(select(Meeting.key, Meeting.title).where(
        Meeting.cohort_id == cohort_id)).all())
    tables = {"task": dict(session.execute(select(Task.key, Task.title).where(
                  Task.cohort_id == cohort_id)).all()),
              "survey": dict(session.execute(select(Survey.key, Survey.title).where(
                  Survey.cohort_id == cohort_id)).all()),
              "prompt": {key: meetings.get(meeting, "") for key, meeting in session.execute(
                  select(Prompt.key, Prompt.meeting_key).where(
                      Prompt.cohort_id == cohort_id)).all()},
              "meeting": meetings,
              "announcement": {str(key): subject for key, subject in session.execute(
                  select(Announcement.id, Announcement.subject).where(
                      Announcement.cohort_id == cohort_id)).all()}}
    titles = {}
    for anchor in anchors:
        prefix, key = anchor.split(":", 1)[0], kinds.item_key_of(anchor)
        title = tables.get(prefix, {}).get(key) or meetings.get(key)
        if title:
            titles[anchor] = title
    return titles


CANCELLED_BY_FACILITATOR = "cancelled by a facilitator for all recipients"


def pending_send_out(session: Session, delivery_id: int, cohort_id: int) -> tuple[str, str, int]:
    """The send-out a delivery belongs to (kind, anchor) and how many of its rows, for all
    recipients, are still pending (never handed over)."""
    row = get_delivery(session, delivery_id, cohort_id)
    waiting = session.scalar(select(func.count()).select_from(Delivery).where(
        *_send_out(cohort_id, row.kind, row.anchor))) or 0
    return row.kind, row.anchor, waiting


def _send_out(cohort_id: int, kind: str, anchor: str) -> tuple:
    return (Delivery.cohort_id == cohort_id, Delivery.kind == kind, Delivery.anchor == anchor,
            Delivery.state == kinds.PENDING, Delivery.attempts == 0)


def cancel_send_out(session: Session, cohort_id: int, delivery_id: int, actor: User | None,
                    now: datetime) -> int:
    """Cancel one send-out (the delivery's kind and anchor) for every recipient whose row is
    still pending and never tried; what is sent, sending or failing stays as it is. Logged in
    the cohort's activity. Returns how many rows were cancelled (0 is not an error).

    Counting only, never naming, keeps a reminder round of an anonymous survey as safe as the
    outbox's counts: the number cancelled is the "waiting" count the page already shows."""
    kind, anchor, _ = pending_send_out(session, delivery_id, cohort_id)
    cancelled = session.execute(update(Delivery).where(*_send_out(cohort_id, kind, anchor))
                                .values(state=kinds.CANCELLED,
                                        last_error=CANCELLED_BY_FACILITATOR)).rowcount
    title = item_titles(session, cohort_id, {anchor}).get(anchor, "")
    activity.log_activity(session, cohort_id, actor, activity.SEND_OUT_CANCELLED,
                          dict(kind=kind, anchor=anchor, title=title, cancelled=cancelled), now)
    return cancelled
