"""What a change to one meeting does to the rest of the plan: compare two plans, item by item.

The reschedule and cancel pages show this diff before the facilitator confirms, so it must be
computed from the same planning core that will apply the change (no separate guesswork).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import deliveries as delivery_kinds
from .deliveries import plan_deliveries
from .planning import Plan

MOVED, ADDED, REMOVED = "moved", "added", "removed"
# Deliveries sent `now` whatever the plan says; a change never moves them.
_IMMEDIATE_KINDS = (delivery_kinds.WELCOME, delivery_kinds.MEETING_INVITATION)


@dataclass(frozen=True)
class Change:
    """One dated field of one plan item that differs between two plans."""

    item: str  # meeting | task | prompt | survey
    key: str
    title: str
    field: str  # starts_at, release_at, due_at, reminder_at, send_at, opens_at, closes_at, ...
    before: datetime | None
    after: datetime | None

    @property
    def status(self) -> str:
        if self.before is None:
            return ADDED
        return REMOVED if self.after is None else MOVED


@dataclass(frozen=True)
class DeliveryMove:
    """One email (per recipient) whose send time changes, appears or disappears."""

    kind: str
    anchor: str
    before: datetime | None
    after: datetime | None

    @property
    def status(self) -> str:
        if self.before is None:
            return ADDED
        return REMOVED if self.after is None else MOVED


def _dated_fields(plan: Plan) -> dict[tuple[str, str], tuple[str, dict[str, datetime | None]]]:
    """(item, key) -> (title, {field: datetime}) for every dated thing in a plan."""
    fields: dict[tuple[str, str], tuple[str, dict[str, datetime | None]]] = {}
    for m in plan.meetings:
        if not m.cancelled:
            fields["meeting", m.key] = (m.title, {"starts_at": m.starts_at, "ends_at": m.ends_at})
    for t in plan.tasks:
        fields["task", t.key] = (t.title, {"release_at": t.release_at, "due_at": t.due_at,
                                           "reminder_at": t.reminder_at})
    for p in plan.prompts:
        fields["prompt", p.key] = (p.question, {"send_at": p.send_at})
    for s in plan.surveys:
        dates = {"opens_at": s.opens_at, "closes_at": s.closes_at}
        dates.update({f"reminder_{n}": r for n, r in enumerate(s.reminders, start=1)})
        fields["survey", s.key] = (s.title, dates)
    return fields


def plan_changes(before: Plan, after: Plan) -> list[Change]:
    """Every dated field that moves, appears or disappears, ordered by its earliest date."""
    old, new = _dated_fields(before), _dated_fields(after)
    changes = []
    for item_key in old.keys() | new.keys():
        title, old_dates = old.get(item_key, (None, {}))
        new_title, new_dates = new.get(item_key, (None, {}))
        for field_name in sorted(old_dates.keys() | new_dates.keys()):
            was, now = old_dates.get(field_name), new_dates.get(field_name)
            if was != now:
                changes.append(Change(item_key[0], item_key[1], new_title or title or "",
                                      field_name, was, now))
    return sorted(changes, key=_change_order)


def _change_order(change: Change) -> tuple:
    when = min(d for d in (change.before, change.after) if d is not None)
    return (when, change.item, change.key, change.field)


def delivery_moves(before: Plan, after: Plan, now: datetime) -> list[DeliveryMove]:
    """The emails whose send time differs between two plans (the same for every recipient);
    `now` is when the first emails (welcome, invitations) go or went: the launch of a
    launched cohort, since the mail policy plans the other emails around them."""
    old = _delivery_times(before, now)
    new = _delivery_times(after, now)
    moves = [DeliveryMove(kind, anchor, old.get((kind, anchor)), new.get((kind, anchor)))
             for kind, anchor in old.keys() | new.keys()
             if old.get((kind, anchor)) != new.get((kind, anchor))]
    return sorted(moves, key=lambda m: (min(d for d in (m.before, m.after) if d), m.kind,
                                        m.anchor))


def _delivery_times(plan: Plan, now: datetime) -> dict[tuple[str, str], datetime]:
    return {(d.kind, d.anchor): d.send_at for d in plan_deliveries(plan, ["*"], now)
            if d.kind not in _IMMEDIATE_KINDS}
