"""From a parsed video-meeting report to proposed attendance marks, for a facilitator to confirm.

Matching, strictest first:
1. by email address (the report's Email, or its UPN when that is a plain address);
2. by name, normalised (case, accents, "Jensen, Anne" = "Anne Jensen", "(Guest)" and
   "(EXT)" dropped, ø = oe = o). A name match is only *proposed*: it is applied when the
   facilitator confirms it, because two people can share a name and a guest can pick any;
3. a row the facilitator assigns to a participant by hand.
Rows that match no one are listed, never dropped. A participant matched only by an
unconfirmed name is left unmarked rather than marked absent (which would send a catch-up).

Someone counts as present when their time in the meeting reaches `min_percent` of the meeting's
length: the shorter of its planned length and the length Teams recorded (so a meeting that
ended early does not make everyone absent, and an organiser who stayed on does not raise the
bar). Participants who are not in the report at all are absent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .attendance import ABSENT, PRESENT
from .teams_attendance import Attendee, TeamsReport

BY_EMAIL = "email"
BY_NAME = "name"
BY_HAND = "assigned"
DEFAULT_MIN_PERCENT = 50
DATE_TOLERANCE = timedelta(hours=12)


class ImportRefused(ValueError):
    """The report cannot be applied to this meeting as asked (nothing is saved)."""


@dataclass(frozen=True)
class RosterPerson:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class RowMatch:
    attendee: Attendee
    participant_id: int | None
    matched_by: str | None  # BY_EMAIL, BY_NAME, BY_HAND or None
    confirmed: bool  # name matches need the facilitator's confirmation
    candidates: tuple[int, ...] = ()  # several roster people share the name: no match

    @property
    def line(self) -> int:
        return self.attendee.line


@dataclass(frozen=True)
class ProposedMark:
    participant_id: int
    state: str
    duration: timedelta | None
    matched_by: str | None  # None: not in the report
    note: str


@dataclass(frozen=True)
class ImportPlan:
    meeting_length: timedelta
    threshold: timedelta
    matches: list[RowMatch]
    marks: dict[int, ProposedMark]
    warnings: list[str]
    other_date: bool = False  # the report seems to be about a meeting on another day

    @property
    def to_confirm(self) -> list[RowMatch]:
        return [m for m in self.matches if m.matched_by == BY_NAME and not m.confirmed]

    @property
    def unmatched(self) -> list[RowMatch]:
        return [m for m in self.matches if m.participant_id is None]

    @property
    def not_in_report(self) -> list[int]:
        return [pid for pid, mark in self.marks.items() if mark.matched_by is None]


def name_keys(name: str) -> frozenset[str]:
    """Comparable forms of a name: Danish/Norwegian letters spelt out and simply dropped."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"\((?:guest|gæst|gjest|ext|extern|ekstern|external|unverified)\)", " ",
                  text)
    if text.count(",") == 1:  # "Jensen, Anne" -> "Anne Jensen"
        last, first = text.split(",")
        text = f"{first} {last}"
    spelt = text.translate(_SPELT_OUT)
    plain = text.translate(_PLAIN)
    return frozenset(k for k in (_key(spelt), _key(plain)) if k)


_SPELT_OUT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue"})
_PLAIN = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u"})


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", ascii_only)
    return " ".join(sorted(words))


def match_rows(
    attendees: Sequence[Attendee], roster: Sequence[RosterPerson],
    confirmed_lines: Collection[int] | bool = False,
    assignments: Mapping[int, int] | None = None,
) -> list[RowMatch]:
    """Each report row with the participant it belongs to, if any."""
    assignments = assignments or {}
    by_email = {p.email.lower(): p.id for p in roster}
    by_name: dict[str, set[int]] = {}
    for person in roster:
        for key in name_keys(person.name):
            by_name.setdefault(key, set()).add(person.id)
    known_ids = {p.id for p in roster}
    matches = []
    for attendee in attendees:
        if attendee.line in assignments:
            pid = assignments[attendee.line]
            if pid not in known_ids:
                raise ImportRefused(f"line {attendee.line}: participant {pid} is not in this "
                                    "cohort")
            matches.append(RowMatch(attendee, pid, BY_HAND, True))
            continue
        if attendee.email and attendee.email in by_email:
            matches.append(RowMatch(attendee, by_email[attendee.email], BY_EMAIL, True))
            continue
        ids = set().union(*(by_name.get(k, set()) for k in name_keys(attendee.name)))
        if len(ids) == 1:
            confirmed = confirmed_lines is True or (
                not isinstance(confirmed_lines, bool) and attendee.line in confirmed_lines)
            matches.append(RowMatch(attendee, ids.pop(), BY_NAME, confirmed))
        else:
            matches.append(RowMatch(attendee, None, None, False, tuple(sorted(ids))))
    return matches


def plan_import(
    report: TeamsReport,
    roster: Sequence[RosterPerson],
    planned_start: datetime,
    planned_length: timedelta,
    min_percent: float = DEFAULT_MIN_PERCENT,
    confirmed_lines: Collection[int] | bool = False,
    assignments: Mapping[int, int] | None = None,
) -> ImportPlan:
    """What importing `report` would record for each participant of the meeting."""
    if not 0 <= min_percent <= 100:
        raise ImportRefused(f"the minimum share of the meeting must be 0-100 %, not "
                            f"{min_percent:g}")
    warnings = []
    length = planned_length
    if report.duration and timedelta(minutes=5) <= report.duration < planned_length:
        length = report.duration
    threshold = length * (min_percent / 100)
    other_date = bool(report.starts_at
                      and abs(report.starts_at - planned_start) > DATE_TOLERANCE)
    if other_date:
        warnings.append(
            f"the report is for a meeting that started {report.starts_at.isoformat()}, but this "
            f"meeting started {planned_start.isoformat()}: is it the right file?")
    if any(a.duration is None for a in report.attendees):
        warnings.append("the report has no in-meeting durations; everyone listed counts as "
                        "present")
    matches = match_rows(report.attendees, roster, confirmed_lines, assignments)
    taken: dict[int, list[RowMatch]] = {}
    for match in matches:
        if match.participant_id is not None and match.confirmed:
            taken.setdefault(match.participant_id, []).append(match)
    pending = {m.participant_id for m in matches if m.matched_by == BY_NAME and not m.confirmed}
    marks = {}
    for person in roster:
        rows = taken.get(person.id)
        if rows:
            marks[person.id] = _mark_from_rows(person.id, rows, threshold, length)
        elif person.id not in pending:
            marks[person.id] = ProposedMark(person.id, ABSENT, None, None, "not in the report")
    return ImportPlan(length, threshold, matches, marks, warnings, other_date)


def _mark_from_rows(pid: int, rows: list[RowMatch], threshold: timedelta,
                    length: timedelta) -> ProposedMark:
    durations = [r.attendee.duration for r in rows]
    how = rows[0].matched_by
    if any(d is None for d in durations):
        return ProposedMark(pid, PRESENT, None, how, "in the report")
    total = sum(durations, timedelta())
    minutes, of = round(total.total_seconds() / 60), round(length.total_seconds() / 60)
    state = PRESENT if total >= threshold else ABSENT
    return ProposedMark(pid, state, total, how, f"{minutes} of {of} min in the meeting")
