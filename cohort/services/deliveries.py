"""The facilitator's outbox: see what goes out when, resend, pause, and the notices a change
to a meeting queues. Nothing here sends; `cohort/mail/dispatch.py` does.

**Reminders of anonymous surveys are counted, never listed by person.** A reminder goes only to
someone who has not answered (the dispatcher skips it as "already done" otherwise), so each
person's reminder row says whether they had answered: skipped means yes, sent (or failed, or
needing review, which only a reminder that was being sent can be) means no. Listing either
kind by name would tell the facilitator who answered an anonymous survey. So the outbox (web
page, `cohort outbox --json`, and the preview page of such a row) shows each reminder round of
an anonymous survey as two counts: waiting to go out, and done (sent, not needed, skipped,
cancelled, failed or needing review, all together, so the count says nothing about anyone). A
failure of such a reminder is therefore not shown per person; a person's other emails (which
are listed) show a failing address. Neither can one of them be resent to one person: the
result of that single reminder would say whether that person had answered.
Identified surveys' reminders are listed as before: their answers carry the name anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from ..core import deliveries as kinds
from ..models import Cohort, CohortMailSettings, Delivery, Participant, Survey
from ._lookup import NotFound

# How the facilitator's view groups the states.
VIEW_GROUPS = {
    "upcoming": (kinds.PENDING, kinds.CLAIMED, kinds.SENDING),
    "needs_review": (kinds.NEEDS_REVIEW,),
    "failed": (kinds.FAILED,),
    "sent": (kinds.SENT,),
    "not_sent": (kinds.SKIPPED, kinds.CANCELLED),
}
RESENDABLE = (kinds.SENT, kinds.FAILED, kinds.NEEDS_REVIEW, kinds.SKIPPED)


@dataclass(frozen=True)
class OutboxView:
    cohort_id: int
    paused: bool
    facilitator_email: str | None
    groups: dict[str, list[Delivery]]
    # Reminder rounds of anonymous surveys, counted instead of listed (module docstring).
    anonymous_reminders: list[AnonymousReminders] = field(default_factory=list)

    def count(self, group: str) -> int:
        return len(self.groups[group])


@dataclass(frozen=True)
class AnonymousReminders:
    """One reminder round of an anonymous survey (anchor `survey:KEY#N`), counted only."""

    anchor: str
    survey_title: str
    number: int
    send_at: datetime  # the earliest planned time of the round
    waiting: int  # not yet gone through the outbox
    done: int  # sent or not needed (or skipped, cancelled, failed): never told apart

    def as_dict(self) -> dict:
        return dict(anchor=self.anchor, survey=self.survey_title, reminder=self.number,
                    send_at=self.send_at.isoformat(), waiting=self.waiting, done=self.done)


WAITING = (kinds.PENDING, kinds.CLAIMED, kinds.SENDING)


def anonymous_survey_keys(session: Session, cohort_id: int) -> dict[str, str]:
    """The cohort's anonymous surveys: key -> title."""
    return dict(session.execute(select(Survey.key, Survey.title).where(
        Survey.cohort_id == cohort_id, Survey.mode == "anonymous")).all())


def is_anonymous_reminder(row: Delivery, anonymous: Container[str]) -> bool:
    """`row`: a delivery or any row with its kind and anchor; `anonymous`: survey keys."""
    return row.kind == kinds.SURVEY_REMINDER and kinds.item_key_of(row.anchor) in anonymous


def hides_state(session: Session, row: Delivery) -> bool:
    """Whether the outbox must not show this row's state (a reminder of an anonymous survey)."""
    return is_anonymous_reminder(row, anonymous_survey_keys(session, row.cohort_id))


def _require_cohort(session: Session, cohort_id: int) -> None:
    if session.get(Cohort, cohort_id) is None:
        raise NotFound(f"no cohort {cohort_id}")


def outbox_view(session: Session, cohort_id: int) -> OutboxView:
    _require_cohort(session, cohort_id)
    rows = session.scalars(select(Delivery).where(Delivery.cohort_id == cohort_id)
                           .order_by(Delivery.send_at, Delivery.id)).all()
    groups: dict[str, list[Delivery]] = {name: [] for name in VIEW_GROUPS}
    anonymous = anonymous_survey_keys(session, cohort_id)
    rounds: dict[str, list[Delivery]] = {}
    for row in rows:
        if is_anonymous_reminder(row, anonymous):
            rounds.setdefault(row.anchor, []).append(row)
            continue
        if row.state == kinds.NEEDS_REVIEW and row.reviewed_at is not None:
            groups["not_sent"].append(row)
            continue
        group = next(name for name, states in VIEW_GROUPS.items() if row.state in states)
        groups[group].append(row)
    groups["sent"].sort(key=lambda d: (d.sent_at or d.send_at, d.id), reverse=True)
    settings = session.get(CohortMailSettings, cohort_id)
    counted = [AnonymousReminders(
        anchor, anonymous[kinds.item_key_of(anchor)],
        int(anchor.rsplit("#", 1)[1]) if "#" in anchor else 0,
        min(r.send_at for r in round_rows),
        sum(r.state in WAITING for r in round_rows),
        sum(r.state not in WAITING for r in round_rows)) for anchor, round_rows in rounds.items()]
    counted.sort(key=lambda r: (r.send_at, r.anchor))
    return OutboxView(cohort_id, bool(settings and settings.paused),
                      settings.facilitator_email if settings else None, groups, counted)


@dataclass(frozen=True)
class OutboxEmail:
    """One email a person receives (or will): a bundle's rows together (core.deliveries
    .bundle_key while waiting; the shared Message-ID once handed over), else one row."""

    kind: str  # the row's kind, or "bundle" for several items
    recipient: str
    send_at: datetime
    state: str
    items: tuple[Delivery, ...]

    def as_dict(self) -> dict:
        return dict(kind=self.kind, recipient=self.recipient, send_at=self.send_at.isoformat(),
                    state=self.state, items=[dict(id=d.id, kind=d.kind, anchor=d.anchor,
                                                  state=d.state) for d in self.items])


def outbox_emails(session: Session, cohort_id: int) -> list[OutboxEmail]:
    """The cohort's outbox as the emails people get, in send order. Reminders of anonymous
    surveys are left out (counted in `outbox_view`: whether one went tells who answered)."""
    _require_cohort(session, cohort_id)
    anonymous = anonymous_survey_keys(session, cohort_id)
    emails: dict[object, list[Delivery]] = {}
    for row in session.scalars(select(Delivery).where(Delivery.cohort_id == cohort_id)
                               .order_by(Delivery.send_at, Delivery.id)):
        if is_anonymous_reminder(row, anonymous):
            continue
        if row.state in (kinds.SKIPPED, kinds.CANCELLED):
            key: object = ("row", row.id)  # never sent: listed on its own
        elif row.state in WAITING and row.attempts == 0:
            key = kinds.bundle_key(row.cohort_id, row.kind, row.recipient, row.send_at,
                                   row.resend_number) or ("row", row.id)
        else:  # handed over at least once: the email is its Message-ID
            key = ("message", row.message_id) if row.message_id else ("row", row.id)
        emails.setdefault(key, []).append(row)
    listed = []
    for rows in emails.values():
        lead = rows[0]
        listed.append(OutboxEmail("bundle" if len(rows) > 1 else lead.kind, lead.recipient,
                                  lead.sent_at or lead.send_at, lead.state, tuple(rows)))
    return sorted(listed, key=lambda e: (e.send_at, e.recipient, e.items[0].id))


def delivery_as_dict(row: Delivery) -> dict:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return dict(id=row.id, kind=row.kind, anchor=row.anchor, to=row.recipient,
                send_at=iso(row.send_at), state=row.state, attempts=row.attempts,
                last_code=row.last_code, last_error=row.last_error, sent_at=iso(row.sent_at),
                retry_at=iso(row.retry_at), message_id=row.message_id,
                resend_of=row.resend_of, reviewed=row.reviewed_at is not None)


def get_delivery(session: Session, delivery_id: int, cohort_id: int | None = None) -> Delivery:
    """A delivery (of the given cohort, when one is given: ids from elsewhere are NotFound)."""
    row = session.get(Delivery, delivery_id)
    if row is None or (cohort_id is not None and row.cohort_id != cohort_id):
        raise NotFound(f"no delivery {delivery_id}")
    return row


@dataclass(frozen=True)
class ResendPlan:
    """What "Resend" would email, for the facilitator to confirm first: one email, of `kind`,
    to `recipient` (`name` is the participant's; None for a facilitator's own email)."""

    delivery_id: int
    kind: str
    recipient: str
    name: str | None
    fingerprint: str  # names this delivery and how often it was resent: a confirmation used
    #                   once (a double click, a reload) does not queue a second copy


class ResendNeedsConfirmation(Exception):
    """The resend was not confirmed with the fingerprint of the plan it would carry out now."""

    def __init__(self, plan: ResendPlan) -> None:
        super().__init__(f"resending delivery {plan.delivery_id} needs its confirmation")
        self.plan = plan


def _resendable(session: Session, delivery_id: int, cohort_id: int | None
                ) -> tuple[Delivery, int, ResendPlan]:
    original = get_delivery(session, delivery_id, cohort_id)
    if hides_state(session, original):
        raise ValueError(f"delivery {delivery_id} is a reminder of an anonymous survey; "
                         "those are not resent to one person")
    if original.state not in RESENDABLE:
        raise ValueError(f"delivery {delivery_id} is {original.state}; only sent, failed, "
                         "skipped or needs-review deliveries can be resent")
    number = session.scalar(select(func.max(Delivery.resend_number)).where(
        Delivery.cohort_id == original.cohort_id, Delivery.kind == original.kind,
        Delivery.anchor == original.anchor, Delivery.recipient == original.recipient)) or 0
    name = session.scalar(select(Participant.name).where(
        Participant.id == original.participant_id)) if original.participant_id else None
    digest = hashlib.sha256(f"resend|{original.id}|{number}".encode()).hexdigest()[:16]
    return original, number, ResendPlan(original.id, original.kind, original.recipient, name,
                                        digest)


def resend_plan(session: Session, delivery_id: int, cohort_id: int | None = None
                ) -> ResendPlan:
    """What resending this delivery would queue; nothing is changed. ValueError if it cannot
    be resent (see `resend`)."""
    return _resendable(session, delivery_id, cohort_id)[2]


def resend(session: Session, delivery_id: int, now: datetime, *, confirmed: str | None,
           cohort_id: int | None = None) -> Delivery:
    """A new row, due now, repeating an earlier one; the original is kept as it was (and, if it
    needed review, counts as reviewed). `confirmed` is the fingerprint of `resend_plan` the
    person saw (the CLI's operator names the delivery on purpose and passes the current one);
    otherwise ResendNeedsConfirmation is raised and nothing is queued."""
    original, number, plan = _resendable(session, delivery_id, cohort_id)
    if confirmed != plan.fingerprint:
        raise ResendNeedsConfirmation(plan)
    copy = Delivery(cohort_id=original.cohort_id, participant_id=original.participant_id,
                    kind=original.kind, anchor=original.anchor, recipient=original.recipient,
                    send_at=now, resend_number=number + 1, resend_of=original.id,
                    created_at=now)
    if original.state == kinds.NEEDS_REVIEW:
        original.reviewed_at = now
    session.add(copy)
    session.flush()
    return copy


def dismiss_review(session: Session, delivery_id: int, now: datetime) -> Delivery:
    """The facilitator checked an uncertain delivery (it did arrive): no resend needed."""
    row = get_delivery(session, delivery_id)
    if hides_state(session, row):
        raise ValueError(f"delivery {delivery_id} is a reminder of an anonymous survey; "
                         "its state is not shown or changed one by one")
    if row.state != kinds.NEEDS_REVIEW:
        raise ValueError(f"delivery {delivery_id} is {row.state}, not needs_review")
    row.reviewed_at = now
    return row


def _settings(session: Session, cohort_id: int) -> CohortMailSettings:
    _require_cohort(session, cohort_id)
    settings = session.get(CohortMailSettings, cohort_id)
    if settings is None:
        settings = CohortMailSettings(cohort_id=cohort_id)
        session.add(settings)
    return settings


def set_paused(session: Session, cohort_id: int, paused: bool, now: datetime) -> None:
    """Paused cohorts' rows stay pending; on resume, overdue rules decide what still goes."""
    settings = _settings(session, cohort_id)
    settings.paused = paused
    settings.paused_at = now if paused else None
    session.flush()


def set_facilitator_email(session: Session, cohort_id: int, email: str | None) -> None:
    _settings(session, cohort_id).facilitator_email = email or None
    session.flush()


SUPERSEDED = "superseded by a later change to the meeting"


def queue_meeting_notices(session: Session, cohort_id: int, meeting_key: str, kind: str,
                          sequence: int, now: datetime) -> int:
    """After a meeting moves (meeting_update) or is cancelled (meeting_cancellation).

    Whoever has not been sent the invitation yet needs no notice: the pending invitation shows
    the new time when it goes out (or is cancelled with the meeting). Earlier pending updates
    for the meeting are superseded. Returns the number of notices queued.
    """
    anchor = f"meeting:{meeting_key}"
    superseded = [kinds.MEETING_UPDATE, kinds.MEETING_CANCELLATION]
    if kind == kinds.MEETING_CANCELLATION:
        superseded.append(kinds.MEETING_INVITATION)
    session.execute(update(Delivery).where(
        Delivery.cohort_id == cohort_id, Delivery.state == kinds.PENDING,
        Delivery.kind.in_(superseded),
        (Delivery.anchor == anchor) | Delivery.anchor.startswith(f"{anchor}#"),
    ).values(state=kinds.CANCELLED, last_error=SUPERSEDED))
    invited = session.execute(select(Delivery.recipient, Delivery.participant_id).where(
        Delivery.cohort_id == cohort_id, Delivery.kind == kinds.MEETING_INVITATION,
        Delivery.anchor == anchor, Delivery.resend_number == 0,
        # claimed: composed, maybe already with the old plan, and about to be sent.
        Delivery.state.in_((kinds.SENT, kinds.NEEDS_REVIEW, kinds.SENDING, kinds.CLAIMED)),
        Delivery.participant_id.in_(select(Participant.id).where(
            Participant.cohort_id == cohort_id, Participant.erased_at.is_(None))),
    )).all()
    notice_anchor = f"{anchor}#{sequence}"
    rows = [dict(cohort_id=cohort_id, participant_id=pid, kind=kind, anchor=notice_anchor,
                 recipient=recipient, send_at=now, state=kinds.PENDING, attempts=0)
            for recipient, pid in invited]
    if rows:
        session.execute(insert(Delivery), rows)
    return len(rows)


def revive_meeting_invitations(session: Session, cohort_id: int, meeting_key: str,
                               now: datetime) -> int:
    """A restored meeting: invitations its cancellation stopped before they went out are due
    now (to participants still in the cohort). Returns how many."""
    return session.execute(update(Delivery).where(
        Delivery.cohort_id == cohort_id, Delivery.kind == kinds.MEETING_INVITATION,
        Delivery.anchor == f"meeting:{meeting_key}", Delivery.state == kinds.CANCELLED,
        Delivery.last_error == SUPERSEDED,
        Delivery.participant_id.in_(select(Participant.id).where(
            Participant.cohort_id == cohort_id, Participant.erased_at.is_(None))),
    ).values(state=kinds.PENDING, last_error=None, send_at=now, retry_at=None)).rowcount


def cancel_participant_deliveries(session: Session, participant: Participant) -> int:
    """Before a participant leaves the cohort: nothing more goes to them."""
    return session.execute(update(Delivery).where(
        Delivery.participant_id == participant.id, Delivery.state == kinds.PENDING,
    ).values(state=kinds.CANCELLED, last_error="the participant left the cohort")).rowcount
