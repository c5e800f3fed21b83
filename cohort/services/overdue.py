"""Skipping emails far too late to send, and the reminders of the first emails skipped so: the
one rule the outbox pass (mail/outbox/claim.py `skip_overdue`) and a join share.

Someone added to a running cohort gets the whole plan, the emails of items already past
included, at those past times; the outbox skips the ones overdue by more than its limit, and
with each skipped first email (a task's release, a survey's invitation) the reminders of it
(`core.deliveries.first_email_of`): nobody is reminded of something never told about. Done
only by the next outbox pass, the outbox and the cohort overview showed those reminders as
pending in between, which a facilitator reads as emails about to go. So the join applies the
same rule to the newcomers' rows in its own transaction (`skip_overdue(..., recipients=...)`),
and the pass applies it to everything due; both call this module, so they cannot drift apart.

Statements on a Connection: the pass runs them on its engine's connection, a service on its
session's (`session.connection()`), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select, update
from sqlalchemy.engine import Connection

from .. import db
from ..core import deliveries as kinds
from ..core.sending import FIRST_EMAIL_NOT_SENT, NEVER_OVERDUE
from ..models import Cohort, CohortMailSettings, Delivery

# Recipients (and rows) per statement.
RECIPIENTS_AT_ONCE = 500
# How the reason reads: the pass's words, or the join's (web/formatting.py DELIVERY_REASONS).
WHEN_THE_OUTBOX_RAN = "when the outbox ran again"
WHEN_THEY_JOINED = "when they joined"


def in_state(*states: str):
    """`delivery.state IN (...)` with the states written into the SQL (db.constant). Bound as
    parameters, PostgreSQL's generic plan for the prepared statement (psycopg prepares one
    after five runs: a scheduler's tick every interval) read the whole outbox to find the
    rows claimed or being sent, of which there are none or a few: 130 ms at 336,405 emails
    where the index answers in 0.02 (benchmarks/scheduler_tick.py)."""
    return Delivery.state.in_([db.constant(state) for state in states])


def cohort_sends():
    """The cohort is launched (drafts send nothing, services/launching.py) and not paused:
    two lookups by primary key per candidate row, inside the claim's one statement."""
    return and_(
        exists().where(Cohort.id == Delivery.cohort_id, Cohort.launched_at.is_not(None)),
        ~exists().where(CohortMailSettings.cohort_id == Delivery.cohort_id,
                        CohortMailSettings.paused.is_(True)))


def skip_overdue(conn: Connection, now: datetime, limit: timedelta, *,
                 cohort_id: int | None = None, recipients: Sequence[str] | None = None,
                 when: str = WHEN_THE_OUTBOX_RAN) -> int:
    """Skip the never-tried pending rows overdue by more than `limit` at `now` in cohorts
    that send (of `cohort_id`, of `recipients` when given), and the pending reminders of the
    first emails skipped so. Returns how many rows were skipped."""
    # Never a welcome: it carries the personal link (core.sending.skip_reason).
    condition = [in_state(kinds.PENDING), Delivery.attempts == 0,
                 Delivery.send_at < now - limit, cohort_sends(),
                 Delivery.kind.not_in([db.constant(k) for k in sorted(NEVER_OVERDUE)])]
    if cohort_id is not None:
        condition.append(Delivery.cohort_id == cohort_id)
    hours = int(limit.total_seconds() // 3600)
    reason = f"skipped: overdue by more than {hours} hour(s) {when}"
    if recipients is None:
        parts: list[list] = [condition]
    else:
        people = sorted(set(recipients))
        parts = [[*condition, Delivery.recipient.in_(people[start:start + RECIPIENTS_AT_ONCE])]
                 for start in range(0, len(people), RECIPIENTS_AT_ONCE)]
    skipped = []
    for part in parts:
        skipped += conn.execute(update(Delivery).where(*part).values(
            state=kinds.SKIPPED, last_error=reason).returning(
            Delivery.cohort_id, Delivery.recipient, Delivery.kind, Delivery.anchor,
            Delivery.resend_number)).all()
    return len(skipped) + _skip_their_reminders(conn, skipped)


def _skip_their_reminders(conn: Connection, firsts: list) -> int:
    """Skip the pending reminders (task reminders, survey reminders) of the first emails
    (cohort, recipient, kind, anchor, resend number) just skipped, to the same person.

    A late joiner is sent none of the old emails: their welcome lists what was released
    before they came (core/joining.py) and their page has every task, so a reminder of a
    task whose email they never got would be the first email about it, as "remember" (the
    demo's late joiner had a bundle of webinar-1 reminders). Their emails start with what
    comes after they joined."""
    skipped = {(c, r, k, a) for c, r, k, a, resend in firsts
               if not resend and k in kinds.FIRST_EMAILS.values()}
    if not skipped:
        return 0
    cohorts = sorted({key[0] for key in skipped})
    recipients = sorted({key[1] for key in skipped})
    count = 0
    for start in range(0, len(recipients), RECIPIENTS_AT_ONCE):
        ids = [row.id for row in conn.execute(select(
            Delivery.id, Delivery.cohort_id, Delivery.recipient, Delivery.kind,
            Delivery.anchor).where(
            in_state(kinds.PENDING), Delivery.resend_number == 0,
            Delivery.kind.in_(sorted(kinds.FIRST_EMAILS)), Delivery.cohort_id.in_(cohorts),
            Delivery.recipient.in_(recipients[start:start + RECIPIENTS_AT_ONCE])))
            if (row.cohort_id, row.recipient, *kinds.first_email_of(row.kind, row.anchor))
            in skipped]
        for part in range(0, len(ids), RECIPIENTS_AT_ONCE):
            count += conn.execute(update(Delivery).where(
                Delivery.id.in_(ids[part:part + RECIPIENTS_AT_ONCE]),
                in_state(kinds.PENDING)).values(
                state=kinds.SKIPPED, last_error=f"skipped: {FIRST_EMAIL_NOT_SENT}")).rowcount
    return count
