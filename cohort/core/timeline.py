"""A plan as a timeline: each meeting followed by what happens before the next one.

Used to show a programme (with day numbers) and a cohort's dated plan in the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .planning import Plan, PlannedMeeting


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # task | prompt | survey
    key: str
    title: str
    at: datetime  # released / sent / opens
    until: datetime | None = None  # due / closes
    detail: str = ""  # task kind, survey mode


@dataclass
class Segment:
    """A meeting (None for what comes before the first one) and the items after it."""

    meeting: PlannedMeeting | None
    items: list[TimelineItem] = field(default_factory=list)


def plan_timeline(plan: Plan) -> list[Segment]:
    items = [TimelineItem("task", t.key, t.title, t.release_at, t.due_at, t.kind)
             for t in plan.tasks]
    items += [TimelineItem("prompt", p.key, p.question, p.send_at) for p in plan.prompts]
    items += [TimelineItem("survey", s.key, s.title, s.opens_at, s.closes_at, s.mode)
              for s in plan.surveys]
    items.sort(key=lambda i: (i.at, i.kind, i.key))
    segments = [Segment(None)] + [Segment(m) for m in plan.meetings]
    for item in items:
        segment = segments[0]
        for candidate in segments[1:]:
            if candidate.meeting.starts_at <= item.at:
                segment = candidate
        segment.items.append(item)
    return segments if segments[0].items else segments[1:]


def day_number(start: datetime, when: datetime) -> int:
    """Days from the first meeting's day (day 0), counted in the same time zone."""
    return (when.date() - start.date()).days
