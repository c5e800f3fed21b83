"""Composing a claimed batch: each row's email (mail.compose.message_data, then
mail.render.build_outgoing once per bundle), or why it ends without one (cancelled, skipped,
failed: `Settle`, written with the batch)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from ... import db
from ...core import deliveries as kinds
from ...core.sending import FIRST_EMAIL_NOT_SENT, skip_reason
from ...models import Delivery
from ..compose import bundle_data, message_data
from ..lookups import Lookups, Undeliverable
from ..render import build_outgoing
from .record import one_line_error

log = logging.getLogger("cohort.mail.dispatch")


class Composer:
    """The composing steps of a Dispatcher (engine, settings, _invitations, _sqlite_writer)."""

    def _compose(self, ids: list[int], token: str, now: datetime) -> list:
        """Each claimed row's message, or why it ends without one (cancelled, skipped,
        failed), from the rows as they are now; one transaction for the whole batch."""
        with db.transaction(self.engine) as session:
            deliveries = list(session.scalars(select(Delivery).where(
                Delivery.id.in_(ids), Delivery.claim_token == token,
                Delivery.state == kinds.CLAIMED).order_by(Delivery.send_at, Delivery.id)))
            lookups = Lookups(session, self.settings.context, now,
                              invitations=self._invitations)
            lookups.prefetch(deliveries, issue=False)
            # New personal links and feeds are written and committed at once: on SQLite a
            # write transaction held while composing would keep the sender threads waiting.
            # They take turns with the senders (`_sqlite_writer`): a sender that found
            # SQLite's lock taken would sleep in its busy handler (1, 2, 5, 10, 15 ms ...)
            # well past the commit, and hold up the other sender meanwhile.
            with self._sqlite_writer or nullcontext():
                lookups.issue_missing()
                session.commit()
            unsent = _first_emails_not_sent(session, deliveries)
            composed = [(d, Settle(kinds.SKIPPED, "skipped",
                                    f"skipped: {FIRST_EMAIL_NOT_SENT}")
                         if (d.id in unsent) else self._prepare(session, d, now, lookups))
                        for d in deliveries]
            prepared = self._bundled(composed, now)
            with self._sqlite_writer or nullcontext():  # as above
                for group, settle in prepared:  # committed with the batch
                    if isinstance(settle, Settle):
                        for delivery in group:
                            session.execute(update(Delivery).where(
                                Delivery.id == delivery.id, Delivery.claim_token == token,
                                Delivery.state == kinds.CLAIMED,
                            ).values(state=settle.state, last_error=settle.reason))
                session.commit()
            return prepared

    def _bundled(self, composed: list, now: datetime) -> list:
        """Rows of one email together (core.deliveries.bundle_key), each email built once:
        [(rows, message or Settle)]. A row that ends without an email is a group of one."""
        groups: dict[object, list] = {}
        for delivery, data in composed:
            if isinstance(data, Settle):
                groups[("settle", delivery.id)] = [(delivery, data)]
                continue
            key = kinds.bundle_key(delivery.cohort_id, delivery.kind, delivery.recipient,
                                   delivery.send_at, delivery.resend_number) \
                or ("alone", delivery.id)
            groups.setdefault(key, []).append((delivery, data))
        prepared = []
        for members in groups.values():
            rows = [delivery for delivery, _data in members]
            first = members[0][1]
            if isinstance(first, Settle):
                prepared.append((rows, first))
                continue
            try:
                message = build_outgoing(bundle_data([data for _d, data in members]), now,
                                         self.settings.mail_from)
            except Exception as exc:
                log.exception("deliveries %s cannot be rendered", [d.id for d in rows])
                message = Settle(kinds.FAILED, "failed",
                                  f"could not render the message: {one_line_error(exc)}")
            prepared.append((rows, message))
        return prepared

    def _prepare(self, session, delivery: Delivery, now: datetime, lookups: Lookups):
        try:
            data = message_data(session, delivery, self.settings.context, now, lookups)
        except Undeliverable as exc:
            return Settle(kinds.CANCELLED, "cancelled", f"cancelled: {exc}")
        except (OperationalError, InterfaceError):
            raise  # the database went away: compose the batch again when it is back
        except Exception as exc:  # a bug or bad data must not stop the other emails
            log.exception("delivery %s cannot be composed", delivery.id)
            return Settle(kinds.FAILED, "failed",
                           f"could not compose the message: {one_line_error(exc)}")
        # A row already being retried is not "overdue", but can still be too late.
        overdue_limit = self.settings.overdue_limit if delivery.attempts == 0 \
            else timedelta.max
        reason = skip_reason(delivery.kind, delivery.send_at, now, deadline=data.deadline,
                             settled=data.settled, overdue_limit=overdue_limit)
        if reason:
            return Settle(kinds.SKIPPED, "skipped", f"skipped: {reason}")
        return data


@dataclass(frozen=True)
class Settle:
    """A row that ends without being sent: cancelled, skipped or failed before sending."""

    state: str
    counter: str
    reason: str



def _first_emails_not_sent(session, deliveries: list[Delivery]) -> set[int]:
    """The reminders of the batch whose first email (the task's release, the survey's
    invitation, to the same person) was skipped, cancelled or failed: never remind of
    something the participant was never told about (core.deliveries.first_email_of)."""
    reminders = {(d.cohort_id, d.recipient, *kinds.first_email_of(d.kind, d.anchor)): d.id
                 for d in deliveries if d.kind in kinds.FIRST_EMAILS and not d.resend_number}
    if not reminders:
        return set()
    cohorts = sorted({key[0] for key in reminders})
    recipients = sorted({key[1] for key in reminders})
    unsent = session.execute(select(
        Delivery.cohort_id, Delivery.recipient, Delivery.kind, Delivery.anchor).where(
        Delivery.cohort_id.in_(cohorts), Delivery.recipient.in_(recipients),
        Delivery.kind.in_(sorted(set(kinds.FIRST_EMAILS.values()))), Delivery.resend_number == 0,
        Delivery.state.in_((kinds.SKIPPED, kinds.CANCELLED, kinds.FAILED))))
    return {reminders[tuple(row)] for row in unsent if tuple(row) in reminders}
