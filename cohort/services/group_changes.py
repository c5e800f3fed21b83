"""Changing groups that participants were already told about, deliberately.

The welcome email names each participant's buddies and teams, and so do the emails of a buddy
exchange task; once one of those has gone out, planning the groups again, repairing them or
moving one person to another group changes what people were told. (A new rule for a pair
changes no group by itself: it is shown as broken until the groups are repaired, which asks.)
So `preview` shows whose partners change (person, partners
before, partners after), `needs_confirmation` says whether anyone who gets a new partner was
told the old ones, and `apply` stores the new groups and queues a short `groups_changed`
email, due at once within the mail policy's working hours and days, for exactly those
people (`to_notify`). Everyone else needs no email:
someone whose welcome is still pending reads the new groups in it, since emails are composed
when they are sent.

A draft cohort has told nobody (its outbox sends nothing), so there it changes without asking
and queues nothing. The confirmation carries a fingerprint of the previewed change; if the
groups or the people changed in between, `apply` refuses and the caller shows the new preview.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core.deliveries import PlannedDelivery
from ..core.grouping import PartnerChange, partner_changes
from ..models import Cohort, Delivery, Participant, Task, User, utcnow
from . import activity
from ._lookup import cohort_programme, get_cohort
from .frozen_rounds import BUDDY_TASK
from .grouping import (
    GroupsView,
    Proposal,
    move_participant,
    participant_names,
    propose_move,
    propose_plan,
    propose_repair,
    store_proposal,
)
from .plans import extra_item_times, insert_deliveries

PLAN, REPAIR, MOVE = "plan", "repair", "move"
# A row in these states may have reached its recipient.
GONE_OUT = (kinds.SENT, kinds.SENDING, kinds.NEEDS_REVIEW)
SUPERSEDED = "cancelled: a newer groups email replaces it"


@dataclass(frozen=True)
class Move:
    """One person into group `to_group` of a rotation (None: a new group of their own)."""

    person: str
    to_group: int | None
    rotation: int = 1


@dataclass(frozen=True)
class GroupChangePreview:
    """What planning again (or repairing) one grouping would change, and whom it would tell."""

    cohort_id: int
    grouping_key: str
    title: str
    action: str  # plan | repair | move
    seed: int
    launched: bool
    changes: tuple[PartnerChange, ...]
    told: frozenset[str]  # people already sent an email that names their groups
    names: dict[str, str]  # email -> name, for everyone in the changes
    changed_groups: int = 0  # repair only: groups that change
    new_partner: tuple[str, ...] = ()  # repair only: people with someone they had not had
    move: Move | None = None  # move only

    @property
    def to_notify(self) -> tuple[str, ...]:
        """The people to email: they get someone new as a partner, and were told the old
        partners. Someone who only loses a partner (who left) gets no "new buddy" email."""
        return tuple(sorted({c.person for c in self.changes
                             if c.joined and c.person in self.told}))

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.to_notify)

    @property
    def changed_people(self) -> tuple[str, ...]:
        return tuple(sorted({c.person for c in self.changes}))

    @property
    def fingerprint(self) -> str:
        """Names this exact change: the confirmation must carry it."""
        text = "|".join([self.action, self.grouping_key, str(self.seed), repr(self.move)] + [
            f"{c.person}:{c.rotation}:{','.join(c.before)}>{','.join(c.after)}"
            for c in self.changes])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return {"grouping": self.grouping_key, "action": self.action, "seed": self.seed,
                "needs_confirmation": self.needs_confirmation,
                "changes": [dict(person=c.person, rotation=c.rotation, before=list(c.before),
                                 after=list(c.after), notified=c.person in self.told)
                            for c in self.changes],
                "notify": list(self.to_notify)}


@dataclass(frozen=True)
class GroupChangeResult:
    view: GroupsView
    preview: GroupChangePreview
    notified: tuple[str, ...]  # the people a groups_changed email was queued for


class ConfirmationNeeded(Exception):
    """The change would alter groups people were told about, and was not confirmed (or the
    change confirmed is no longer the one it would make)."""

    def __init__(self, preview: GroupChangePreview) -> None:
        super().__init__(f"{len(preview.to_notify)} participant(s) were already told their "
                         f"groups in '{preview.grouping_key}' and would get a new partner")
        self.preview = preview


def preview(session: Session, cohort_id: int, action: str, grouping_key: str | None = None,
            seed: int = 0, *, move: Move | None = None) -> GroupChangePreview:
    """Who would get a new partner if the grouping were planned again (`plan`), repaired, or
    one person moved (`move`, with `move`)."""
    return _preview(session, get_cohort(session, cohort_id), action, grouping_key, seed,
                    move)[0]


def apply(session: Session, cohort_id: int, action: str, grouping_key: str | None = None,
          seed: int = 0, *, move: Move | None = None, confirmed: str | None = None,
          actor: User | None = None, now: datetime | None = None) -> GroupChangeResult:
    """Plan again, repair or move, and email whoever was told the old groups and gets a new
    partner.

    Raises ConfirmationNeeded when someone would be emailed and `confirmed` is not the
    previewed change's fingerprint; nothing is changed then."""
    now = now or utcnow()
    cohort = get_cohort(session, cohort_id)
    found, proposal = _preview(session, cohort, action, grouping_key, seed, move)
    if found.needs_confirmation and confirmed != found.fingerprint:
        raise ConfirmationNeeded(found)
    if move is not None:  # stored as moved, group numbers kept
        view = move_participant(session, cohort_id, move.person, move.to_group, move.rotation,
                                found.grouping_key, now)
    else:
        view = store_proposal(session, cohort_id, proposal, now)
    notified = found.to_notify
    if notified:
        _queue_notices(session, cohort, found.grouping_key, notified, now)
    if found.changes and cohort.launched_at is not None:
        activity.log_activity(session, cohort_id, actor, activity.GROUPS_CHANGED, {
            "grouping": found.grouping_key, "title": found.title, "action": action,
            "changed": len(found.changed_people), "notified": len(notified)}, now)
    return GroupChangeResult(view, found, notified)


def _preview(session: Session, cohort: Cohort, action: str, grouping_key: str | None,
             seed: int, move: Move | None = None) -> tuple[GroupChangePreview, Proposal]:
    if action not in (PLAN, REPAIR, MOVE) or (action == MOVE) != (move is not None):
        raise ValueError(f"unknown group change '{action}'")
    if move is not None:
        proposal = propose_move(session, cohort.id, move.person, move.to_group, move.rotation,
                                grouping_key)
    else:
        propose = propose_plan if action == PLAN else propose_repair
        proposal = propose(session, cohort.id, grouping_key, seed)
    template = next(t for t in cohort_programme(cohort).groupings
                    if t.key == proposal.grouping_key)
    changes = tuple(partner_changes(proposal.before, proposal.after))
    people = {c.person for c in changes} | {p for c in changes for p in c.before + c.after}
    names = {email: name for email, name in participant_names(session, cohort.id).items()
             if email in people}
    told = _told(session, cohort, template.key, template.kind, {c.person for c in changes})
    return GroupChangePreview(
        cohort.id, template.key, template.title or template.key, action, seed,
        cohort.launched_at is not None, changes, frozenset(told), names,
        proposal.changed_groups, proposal.new_partner, move), proposal


def _told(session: Session, cohort: Cohort, grouping_key: str, grouping_kind: str,
          people: set[str]) -> set[str]:
    """Which of `people` were sent an email naming their groups in this grouping: the
    welcome, a buddy exchange task's emails (buddy groupings) or an earlier groups email."""
    if cohort.launched_at is None or not people:
        return set()
    naming = (Delivery.kind == kinds.WELCOME) | (
        (Delivery.kind == kinds.GROUPS_CHANGED)
        & Delivery.anchor.startswith(f"groups:{grouping_key}#", autoescape=True))
    if grouping_kind == "buddy":
        buddy_tasks = [f"task:{key}" for key in session.scalars(select(Task.key).where(
            Task.cohort_id == cohort.id, Task.kind == BUDDY_TASK))]
        if buddy_tasks:
            naming = naming | (Delivery.kind.in_((kinds.TASK_RELEASED, kinds.TASK_REMINDER))
                               & Delivery.anchor.in_(buddy_tasks))
    return set(session.scalars(select(Delivery.recipient).where(
        Delivery.cohort_id == cohort.id, Delivery.state.in_(GONE_OUT),
        Delivery.recipient.in_(sorted(people)), naming)))


def _queue_notices(session: Session, cohort: Cohort, grouping_key: str,
                   people: tuple[str, ...], now: datetime) -> None:
    """One groups_changed notice each, due now or at the next allowed time (with that day's
    email when one is still to go), anchored
    `groups:KEY#N` for the N-th change; an earlier one still pending for the same person is
    superseded (it would say the same)."""
    prefix = f"groups:{grouping_key}#"
    anchors = session.scalars(select(Delivery.anchor).where(
        Delivery.cohort_id == cohort.id, Delivery.kind == kinds.GROUPS_CHANGED,
        Delivery.anchor.startswith(prefix, autoescape=True)))
    number = max((int(a.rsplit("#", 1)[1]) for a in anchors
                  if a.rsplit("#", 1)[1].isdigit()), default=0) + 1
    session.execute(update(Delivery).where(
        Delivery.cohort_id == cohort.id, Delivery.kind == kinds.GROUPS_CHANGED,
        Delivery.state == kinds.PENDING, Delivery.recipient.in_(people),
        Delivery.anchor.startswith(prefix, autoescape=True),
    ).values(state=kinds.CANCELLED, last_error=SUPERSEDED))
    ids = dict(session.execute(select(Participant.email, Participant.id).where(
        Participant.cohort_id == cohort.id, Participant.email.in_(people))).all())
    # Quiet hours and days like the rest, inside the person's email of the day if one is
    # still to go (a bundled kind), else on its own at the first allowed time.
    send_at = extra_item_times(session, cohort, list(people), now, None)
    insert_deliveries(session, cohort.id, [
        PlannedDelivery(kinds.GROUPS_CHANGED, f"{prefix}{number}", email,
                        send_at[email] or now)
        for email in people], ids)
    session.flush()
