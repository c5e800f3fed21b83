"""The facilitator's outbox page: the emails people get (one row per email, bundled items
inside, as `deliveries.outbox_emails` lists them), filtered, counted per state and cut into
pages, with the titles of the items they are about, so the page never shows raw keys such as
`meeting:kickoff`.

A programme plans thousands of rows, so the page is made in the database: the rows are grouped
into emails by SQL expressions that mirror `outbox_emails` (a waiting, never-tried row of a
bundled kind by recipient and send time, `core.deliveries.bundle_key`; a row handed over by its
Message-ID; anything else alone), the counts per state are a GROUP BY over those emails, and
only the rows of the page's emails are loaded. Without a page number the page opens where the
next emails to go are (the first waiting email in send order; with none, the newest page):
that is what a facilitator opens the outbox for, and the history is one "previous page" away.

Reminders of anonymous surveys stay out of every row and count here: `outbox_emails` leaves
them out (see the docstring of services/deliveries.py), and the page shows them as counts from
`anonymous_reminder_rounds` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    false,
    func,
    not_,
    or_,
    select,
    union_all,
    update,
)
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.paging import first_on_page, page_count, page_within
from ..db import constant
from ..models import (
    Announcement,
    CohortMailSettings,
    Delivery,
    Meeting,
    Prompt,
    Survey,
    Task,
    User,
)
from . import activity
from ._lookup import get_cohort
from .deliveries import (
    WAITING,
    AnonymousReminders,
    OutboxEmail,
    anonymous_survey_keys,
    get_delivery,
)

PER_PAGE = 50


@dataclass(frozen=True)
class OutboxFilters:
    """What the facilitator narrowed the list to (all optional; `start`/`end` in UTC, end
    exclusive). `kind` matches an email that carries an item of that kind ("bundle": an
    email of several items); `person` a part of the recipient's address, in any case."""

    kind: str | None = None
    state: str | None = None
    person: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class OutboxPage:
    emails: list[OutboxEmail]  # this page's emails, in send order
    total: int  # emails matching the filters
    counts: dict[str, int]  # per state, over the filters other than the state
    page: int
    pages: int
    recipients: list[str]  # everyone with a listed email (for the person filter)
    titles: dict[str, str] = field(default_factory=dict)  # anchor -> title of its item
    next_to_go: int | None = None  # the first row of the first waiting email, if on this page

    @property
    def first(self) -> int:
        return first_on_page(self.page, PER_PAGE, self.total)

    @property
    def last(self) -> int:
        return self.first + len(self.emails) - 1 if self.emails else 0


# Which email a row is part of, as columns (NULL where that way of grouping does not apply);
# GROUP BY treats NULLs as equal, so each email is one group of (recipient, these three).
_UNTRIED = and_(Delivery.state.in_(WAITING), Delivery.attempts == 0)
_BUNDLED = and_(_UNTRIED, Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.resend_number == 0)
_HANDED = and_(Delivery.state.not_in((kinds.SKIPPED, kinds.CANCELLED)), not_(_UNTRIED),
               Delivery.message_id.is_not(None))
_BUNDLE_AT = case((_BUNDLED, Delivery.send_at))
_MESSAGE = case((_HANDED, Delivery.message_id))
_ALONE = case((or_(_BUNDLED, _HANDED), None), else_=Delivery.id)


def _rows_listed(session: Session, cohort_id: int) -> tuple:
    """The WHERE of the cohort's listed rows: all but the reminders of anonymous surveys."""
    anonymous = anonymous_survey_keys(session, cohort_id)
    hidden = or_(false(), *(or_(Delivery.anchor == f"survey:{key}",
                                Delivery.anchor.startswith(f"survey:{key}#", autoescape=True))
                            for key in anonymous))
    return (Delivery.cohort_id == cohort_id,
            not_(and_(Delivery.kind == kinds.SURVEY_REMINDER, hidden)))


def _emails(session: Session, cohort_id: int, filters: OutboxFilters, *, with_state: bool):
    """One row per email: its grouping columns, send time (of the lead row, as
    `outbox_emails` shows it), state, first row id and number of items. The grouping columns
    are computed per row first, so the GROUP BY names plain columns (PostgreSQL would not
    match two renderings of a CASE with bound parameters)."""
    rows = (select(Delivery.id, Delivery.recipient, Delivery.kind, Delivery.state,
                   func.coalesce(Delivery.sent_at, Delivery.send_at).label("at"),
                   _BUNDLE_AT.label("bundle_at"), _MESSAGE.label("message"),
                   _ALONE.label("alone"))
            .where(*_rows_listed(session, cohort_id)))
    if filters.person and filters.person.strip():
        rows = rows.where(func.lower(Delivery.recipient).contains(
            filters.person.strip().lower(), autoescape=True))
    row = rows.subquery()
    when = func.min(row.c.at).label("at")
    query = (select(row.c.recipient, row.c.bundle_at, row.c.message, row.c.alone, when,
                    func.min(row.c.state).label("state"), func.min(row.c.id).label("lead"),
                    func.count().label("items"))
             .group_by(row.c.recipient, row.c.bundle_at, row.c.message, row.c.alone))
    if filters.kind == "bundle":
        query = query.having(func.count() > 1)
    elif filters.kind:
        query = query.having(func.max(case((row.c.kind == filters.kind, 1), else_=0)) == 1)
    if filters.start:
        query = query.having(func.min(row.c.at) >= filters.start)
    if filters.end:
        query = query.having(func.min(row.c.at) < filters.end)
    if with_state and filters.state:
        query = query.having(func.min(row.c.state) == filters.state)
    return query.subquery()


def outbox_page(session: Session, cohort_id: int, filters: OutboxFilters,
                page: int | None = None, per_page: int = PER_PAGE) -> OutboxPage:
    """One page of the cohort's emails (NotFound for an unknown cohort). A page number past the
    end shows the last page; no page number, the page of the next emails to go."""
    get_cohort(session, cohort_id)
    around = _emails(session, cohort_id, filters, with_state=False)
    counts = dict(session.execute(select(around.c.state, func.count())
                                  .group_by(around.c.state)).all())
    chosen = _emails(session, cohort_id, filters, with_state=True)
    total = session.scalar(select(func.count()).select_from(chosen)) or 0
    pages = page_count(total, per_page)
    order = (chosen.c.at, chosen.c.recipient, chosen.c.lead)
    upcoming = session.execute(select(*order).where(chosen.c.state.in_(WAITING))
                               .order_by(*order).limit(1)).first()
    if page is None:
        if upcoming is None:
            page = pages
        else:
            at, recipient, lead = upcoming
            before = session.scalar(select(func.count()).select_from(chosen).where(or_(
                chosen.c.at < at, and_(chosen.c.at == at, chosen.c.recipient < recipient),
                and_(chosen.c.at == at, chosen.c.recipient == recipient,
                     chosen.c.lead < lead)))) or 0
            page = before // per_page + 1
    page = page_within(page, pages)
    shown = session.execute(select(chosen).order_by(*order)
                            .offset((page - 1) * per_page).limit(per_page)).all()
    emails = _load(session, cohort_id, shown)
    anchors = {d.anchor for e in emails for d in e.items}
    recipients = session.scalars(select(Delivery.recipient).distinct().where(
        *_rows_listed(session, cohort_id)).order_by(Delivery.recipient)).all()
    lead = upcoming[2] if upcoming is not None else None
    return OutboxPage(emails, total, counts, page, pages, list(recipients),
                      item_titles(session, cohort_id, anchors),
                      lead if any(e.items[0].id == lead for e in emails) else None)


def _load(session: Session, cohort_id: int, shown: list) -> list[OutboxEmail]:
    """The rows of these emails (and no others), as emails in the given order."""
    if not shown:
        return []
    wanted = []
    for email in shown:
        if email.alone is not None:
            wanted.append(Delivery.id == email.alone)
        elif email.message is not None:
            wanted.append(and_(_HANDED, Delivery.message_id == email.message))
        else:
            wanted.append(and_(_BUNDLED, Delivery.recipient == email.recipient,
                               Delivery.send_at == email.bundle_at))
    rows: dict[tuple, list[Delivery]] = {}
    for row in session.scalars(select(Delivery).where(
            *_rows_listed(session, cohort_id), or_(*wanted))
            .order_by(Delivery.send_at, Delivery.id)):
        rows.setdefault(_key_of(row), []).append(row)
    listed = []
    for email in shown:
        items = rows.get((email.recipient, email.bundle_at, email.message, email.alone), [])
        if not items:
            continue
        lead = items[0]
        listed.append(OutboxEmail("bundle" if len(items) > 1 else lead.kind, lead.recipient,
                                  lead.sent_at or lead.send_at, lead.state, tuple(items)))
    return listed


def _key_of(row: Delivery) -> tuple:
    """A loaded row's grouping columns, as `_emails` computes them in SQL."""
    untried = row.state in WAITING and row.attempts == 0
    if untried and row.kind in kinds.BUNDLED_KINDS and row.resend_number == 0:
        return (row.recipient, row.send_at, None, None)
    if row.state not in (kinds.SKIPPED, kinds.CANCELLED) and not untried and row.message_id:
        return (row.recipient, None, row.message_id, None)
    return (row.recipient, None, None, row.id)


def anonymous_reminder_rounds(session: Session, cohort_id: int) -> list[AnonymousReminders]:
    """Each reminder round of an anonymous survey, counted in the database: how many wait and
    how many went or were not needed (never who)."""
    anonymous = anonymous_survey_keys(session, cohort_id)
    if not anonymous:
        return []
    waiting = func.sum(case((Delivery.state.in_(WAITING), 1), else_=0))
    rounds = session.execute(select(Delivery.anchor, func.min(Delivery.send_at), waiting,
                                    func.count()).where(
        Delivery.cohort_id == cohort_id, Delivery.kind == kinds.SURVEY_REMINDER,
        or_(*(Delivery.anchor.startswith(f"survey:{key}#", autoescape=True)
              for key in anonymous)))
        .group_by(Delivery.anchor)).all()
    counted = [AnonymousReminders(anchor, anonymous[kinds.item_key_of(anchor)],
                                  int(anchor.rsplit("#", 1)[1]) if "#" in anchor else 0,
                                  first, int(waiting or 0), int(count - (waiting or 0)))
               for anchor, first, waiting, count in rounds
               if kinds.item_key_of(anchor) in anonymous]
    return sorted(counted, key=lambda r: (r.send_at, r.anchor))


def is_paused(session: Session, cohort_id: int) -> bool:
    settings = session.get(CohortMailSettings, cohort_id)
    return bool(settings and settings.paused)


def item_titles(session: Session, cohort_id: int, anchors: set[str]) -> dict[str, str]:
    """'meeting:kickoff' -> 'Kick-off webinar', 'task:questions@kickoff' -> the task's title,
    'survey:final#2' -> the survey's, a prompt's -> its meeting's; unknown anchors are left
    out (the page then shows the kind only). One statement: the cohort overview and a meeting
    change's preview name their emails with it too (tests/web/test_page_statements.py)."""
    if not anchors:
        return {}
    rows = session.execute(union_all(
        select(constant("meeting"), Meeting.key, Meeting.title)
        .where(Meeting.cohort_id == cohort_id),
        select(constant("task"), Task.key, Task.title).where(Task.cohort_id == cohort_id),
        select(constant("survey"), Survey.key, Survey.title).where(Survey.cohort_id == cohort_id),
        select(constant("prompt"), Prompt.key, Meeting.title)
        .join(Meeting, (Meeting.cohort_id == Prompt.cohort_id)
              & (Meeting.key == Prompt.meeting_key))
        .where(Prompt.cohort_id == cohort_id),
        select(constant("announcement"), cast(Announcement.id, String), Announcement.subject)
        .where(Announcement.cohort_id == cohort_id)))
    tables: dict[str, dict[str, str]] = {}
    for prefix, key, title in rows:
        tables.setdefault(prefix, {})[key] = title
    meetings = tables.get("meeting", {})
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
