"""The facilitator digest: what participants sent in since the last meeting, as an agenda.

The seed course asks participants to "gather questions and reflections for the next meeting";
the digest turns their prompt answers and task notes from the window between two meetings into
the next meeting's agenda, grouped by the question they answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class DigestMeeting:
    key: str
    title: str
    starts_at: datetime
    themes: tuple[str, ...] = ()
    content: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contribution:
    """One answer or note: `source` is the prompt question or task title it belongs to."""

    source_kind: str  # "prompt" or "task"
    source: str
    text: str
    at: datetime
    participant: str
    organisation: str = ""


@dataclass(frozen=True)
class DigestSection:
    source_kind: str
    source: str
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class Digest:
    meeting: DigestMeeting
    since: datetime | None
    until: datetime
    sections: tuple[DigestSection, ...] = field(default_factory=tuple)

    @property
    def count(self) -> int:
        return sum(len(s.contributions) for s in self.sections)


def compose_digest(meeting: DigestMeeting, previous_meeting_end: datetime | None,
                   contributions: Iterable[Contribution], now: datetime) -> Digest:
    """Contributions made after the previous meeting ended and before `now` (at the latest the
    meeting's start), grouped by question; prompts before tasks, oldest first within each."""
    until = min(now, meeting.starts_at)
    chosen = [c for c in contributions if c.text.strip() and c.at <= until
              and (previous_meeting_end is None or c.at > previous_meeting_end)]
    groups: dict[tuple[str, str], list[Contribution]] = {}
    for contribution in sorted(chosen, key=lambda c: (c.source_kind != "prompt", c.at)):
        groups.setdefault((contribution.source_kind, contribution.source), []).append(
            contribution)
    sections = tuple(DigestSection(kind, source, tuple(items))
                     for (kind, source), items in groups.items())
    return Digest(meeting, previous_meeting_end, until, sections)
