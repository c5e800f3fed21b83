"""Small time expressions facilitators write in templates: durations, clock times, anchors.

Anchors say *when relative to which meeting*, e.g. ``webinar-2 -5d 08:00`` (five days before
webinar 2, at 08:00 local time) or ``meeting end +1d 09:00``. Keeping them relative is what lets
a rescheduled meeting carry its tasks, prompts and surveys with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta

_DURATION_TOKEN = re.compile(r"(\d+)\s*(w|d|h|min|m)\b")
_SIGNED_TOKEN = re.compile(r"^([+-])(\d+)(w|d|h|min|m)$")
_CLOCK = re.compile(r"^(?:at\s+)?([01]?\d|2[0-3]):([0-5]\d)$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "min": "minutes", "m": "minutes"}

# Words an anchor may use instead of a meeting key.
RELATIVE_REFS = ("meeting", "next", "previous")
POSITION_REFS = ("first", "last")
RESERVED_REFS = RELATIVE_REFS + POSITION_REFS


def parse_duration(value: object) -> timedelta:
    """'2h', '90min', '1h 30min', '5w 2d' or a bare number of minutes -> timedelta."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a duration such as 2h or 90min")
    if isinstance(value, int):
        return timedelta(minutes=value)
    text = str(value).strip().lower()
    if not text or _DURATION_TOKEN.sub("", text).strip():
        raise ValueError(f"'{value}' is not a duration such as 2h, 90min or 3w 2d")
    total = timedelta()
    for amount, unit in _DURATION_TOKEN.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def parse_day_offset(value: object) -> int:
    """Offset of a meeting from the cohort start: '37d', '5w 2d' or a bare number of days."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a day offset such as 0d, 9d or 5w 2d")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"'{value}' is negative: meetings start on or after the cohort start")
        return value
    if str(value).strip().startswith("-"):
        raise ValueError(f"'{value}' is negative: meetings start on or after the cohort start")
    try:
        delta = parse_duration(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a day offset such as 0d, 9d or 5w 2d") from None
    if delta % timedelta(days=1):
        raise ValueError(f"'{value}' is not a whole number of days")
    return delta.days


def parse_clock(value: object) -> time:
    """'13:00' -> time(13, 0)."""
    match = _CLOCK.match(str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a time of day such as 08:00 or 13:30")
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class Anchor:
    """A point in time relative to a meeting.

    ``ref`` is a meeting key or one of: meeting/next/previous (in items repeated for each
    meeting), first/last. ``edge`` is start or end of that meeting; ``shift`` is added in local
    wall-clock time; ``at`` then sets the local time of day, if given.
    """

    ref: str
    edge: str = "start"
    shift: timedelta = timedelta()
    at: time | None = None

    def __str__(self) -> str:
        parts = [self.ref] if self.edge == "start" else [self.ref, "end"]
        if self.shift:
            days, rest = self.shift.days, self.shift - timedelta(days=self.shift.days)
            if days:
                parts.append(f"{days:+d}d")
            if rest:
                parts.append(f"+{int(rest.total_seconds() // 60)}min")
        if self.at is not None:
            parts.append(self.at.strftime("%H:%M"))
        return " ".join(parts)


def parse_anchor(value: object) -> Anchor:
    """'webinar-2 -5d 08:00', 'meeting end +1d at 09:00', 'kickoff' -> Anchor."""
    words = str(value).split()
    if not words:
        raise ValueError("an anchor names a meeting, e.g. 'webinar-2 -5d 08:00'")
    ref, rest = words[0], words[1:]
    if _SIGNED_TOKEN.match(ref) or _CLOCK.match(ref):
        raise ValueError(f"'{value}' must start with a meeting key, e.g. 'kickoff +1d 08:00'")
    edge = "start"
    if rest and rest[0] in ("start", "end"):
        edge, rest = rest[0], rest[1:]
    shift = timedelta()
    at: time | None = None
    while rest:
        word = rest.pop(0)
        if word == "at" and rest:
            word = rest.pop(0)
        signed = _SIGNED_TOKEN.match(word)
        if signed and at is None:
            sign = -1 if signed.group(1) == "-" else 1
            shift += sign * timedelta(**{_UNITS[signed.group(3)]: int(signed.group(2))})
        elif _CLOCK.match(word) and at is None:
            at = parse_clock(word)
        else:
            raise ValueError(
                f"cannot read '{word}' in anchor '{value}': expected start/end, an offset "
                "such as +1d or -2h, then a time such as 08:00"
            )
    return Anchor(ref=ref, edge=edge, shift=shift, at=at)


def parse_relative(value: object) -> tuple[timedelta, time | None]:
    """A reminder written relative to something else: '+3d', '+1w 09:00'."""
    anchor = parse_anchor(f"_ {value}")
    if anchor.edge != "start":
        raise ValueError(f"'{value}' is relative: write it as an offset such as +3d 09:00")
    return anchor.shift, anchor.at
