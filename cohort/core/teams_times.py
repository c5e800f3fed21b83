"""Reading the times in a Teams attendance report: durations ("1h 2m 3s") and timestamps
in the exporting PC's locale, with the day/month order chosen once per file.

Split from teams_attendance.py (the file's layout lives there); `TeamsReportError` is here
so both can raise it. A duration longer than any Teams meeting can last (30 hours) is
refused with that reason, not read (a huge number overflowed `timedelta`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .planning import local_datetime


class TeamsReportError(ValueError):
    """The file is not a usable attendance report; `line` is 1-based (None: the whole file).

    `code` and `params` (when set) let an edge word the message in the reader's language;
    `column` names the cell (its header, or its number) when the problem is in one.
    """

    def __init__(self, message: str, line: int | None = None, code: str = "",
                 params: tuple[tuple[str, str | int], ...] = (), column: str = ""):
        self.message = message
        self.line = line
        self.code, self.params, self.column = code, params, column
        where = f"line {line}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}" if line else message)


_UNIT_SECONDS = {
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "t": 3600, "time": 3600,
    "timer": 3600, "tim": 3600, "godz": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "minut": 60, "minutter": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "sek": 1, "sekund": 1,
    "sekunder": 1,
}
_DURATION_PART = re.compile(r"(\d+)\s*([^\W\d_]+)\.?")
_CLOCK_DURATION = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})")


# Teams ends a meeting after 30 hours: a longer time in a meeting is a misread column.
DURATION_MAX = timedelta(hours=30)
DURATION_TOO_LONG = "duration_too_long"


class DurationTooLong(ValueError):
    """A duration beyond DURATION_MAX (the message says so; the value is not read)."""


DURATION_UNREADABLE = "duration_unreadable"


class DurationUnreadable(ValueError):
    """Not a duration; `value` is the cell as shown in a message (an edge words it)."""

    def __init__(self, value: str):
        self.value = shown(value)
        super().__init__(f"'{self.value}' is not a duration such as 1h 2m 3s or 58m 12s")


def parse_duration(value: str) -> timedelta:
    """'1h 2m 3s', '58m 12s', '45s', '1 t 2 min', '1:02:03' -> timedelta; ValueError otherwise
    (DurationTooLong when it is longer than any Teams meeting can be)."""
    text = value.strip().casefold()
    clock = _CLOCK_DURATION.fullmatch(text)
    if clock:
        hours, minutes, seconds = (int(g or 0) for g in clock.groups())
        return _bounded(value, hours * 3600 + minutes * 60 + seconds)
    total, position = 0, 0
    for part in _DURATION_PART.finditer(text):
        if text[position:part.start()].strip(" ,"):
            break
        unit = _UNIT_SECONDS.get(part.group(2))
        if unit is None:
            break
        total += int(part.group(1)) * unit
        position = part.end()
    else:
        if position and not text[position:].strip():
            return _bounded(value, total)
    raise DurationUnreadable(value)


def _bounded(value: str, seconds: int) -> timedelta:
    if seconds > DURATION_MAX.total_seconds():
        hours = int(DURATION_MAX.total_seconds() // 3600)
        raise DurationTooLong(f"the duration '{shown(value)}' is longer than {hours} hours, "
                              "the longest a Teams meeting lasts")
    return timedelta(seconds=seconds)


def shown(value: str) -> str:
    """A cell quoted in a message: a few dozen characters, not a megabyte."""
    return value if len(value) <= 40 else value[:37] + "..."


_STAMP = re.compile(
    r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:,\s*|\s+|T)(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"(?:[.,]\d+)?\s*([AaPp])?\.?\s*(?:[Mm]\.?)?")
_ORDERS = ("dmy", "mdy")


@dataclass(frozen=True)
class Stamp:
    line: int
    raw: str
    parts: tuple[int, int, int] | None  # the three date numbers as written
    clock: time | None
    year_first: bool


def _scan_stamp(raw: str, line: int) -> Stamp:
    match = _STAMP.fullmatch(raw.strip())
    if not match:
        return Stamp(line, raw, None, None, False)
    a, b, c, hour, minute, second, meridiem = match.groups()
    hour_value = int(hour)
    if meridiem:
        if not 1 <= hour_value <= 12:
            return Stamp(line, raw, None, None, False)
        hour_value = hour_value % 12 + (12 if meridiem.lower() == "p" else 0)
    if hour_value > 23 or int(minute) > 59 or int(second or 0) > 59:
        return Stamp(line, raw, None, None, False)
    clock = time(hour_value, int(minute), int(second or 0))
    return Stamp(line, raw, (int(a), int(b), int(c)), clock, len(a) == 4)


def _stamp_date(stamp: Stamp, order: str) -> date | None:
    if stamp.parts is None:
        return None
    a, b, c = stamp.parts
    if stamp.year_first:
        year, month, day = a, b, c
    elif order == "dmy":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


class Clock:
    """Reads every timestamp of one file with one day/month order, in the cohort's zone."""

    def __init__(self, stamps: list[Stamp], zone: ZoneInfo, near: datetime | None):
        self.zone = zone
        self.order = self._choose_order(stamps, near)

    def _choose_order(self, stamps: list[Stamp], near: datetime | None) -> str:
        ambiguous = [s for s in stamps if not s.year_first]
        readable = [o for o in _ORDERS
                    if all(_stamp_date(s, o) is not None for s in ambiguous)]
        if not readable:
            preferred = "mdy" if self._has_meridiem(stamps) else "dmy"
            bad = next(s for s in ambiguous if _stamp_date(s, preferred) is None)
            raise TeamsReportError(
                f"'{shown(bad.raw)}' is not a date and time such as 15/11/25, 09:30:17, "
                "11/15/25, 9:30:17 AM or 2025-11-15 09:30:17", bad.line, DATE_UNREADABLE,
                (("value", shown(bad.raw)),))
        if len(readable) > 1 and ambiguous:
            if near is not None:
                return min(readable, key=lambda o: self._distance(ambiguous, o, near))
            return "mdy" if self._has_meridiem(stamps) else "dmy"
        return readable[0]

    @staticmethod
    def _has_meridiem(stamps: list[Stamp]) -> bool:
        return any(re.search(r"\d\s*[AaPp]\.?\s*[Mm]\.?\s*$", s.raw) for s in stamps)

    def _distance(self, stamps: list[Stamp], order: str, near: datetime) -> timedelta:
        return sum((abs(self._at(s, order) - near) for s in stamps), timedelta())

    def _at(self, stamp: Stamp, order: str) -> datetime:
        return local_datetime(_stamp_date(stamp, order), stamp.clock, self.zone)

    def read(self, stamp: Stamp | None) -> datetime | None:
        return None if stamp is None else self._at(stamp, self.order)


# Which time of the report could not be read: each is its own message in the edge's
# languages ("the join time" is one phrase in Danish, not "the" + "join time"), and its code.
START_TIME, END_TIME, JOIN_TIME, LEAVE_TIME, TIMESTAMP_TIME = (
    "start_time", "end_time", "join_time", "leave_time", "timestamp")
_TIME_NAMES = {START_TIME: "the start time", END_TIME: "the end time",
               JOIN_TIME: "the join time", LEAVE_TIME: "the leave time",
               TIMESTAMP_TIME: "the timestamp"}
DATE_UNREADABLE = "date_unreadable"


def stamp_or_error(raw: str, line: int, which: str) -> Stamp | None:
    """`raw` scanned (None when empty); `which` is one of the *_TIME names, and the error's
    code is `<which>_unreadable`."""
    if not raw.strip():
        return None
    stamp = _scan_stamp(raw, line)
    if stamp.parts is None:
        raise TeamsReportError(
            f"{_TIME_NAMES[which]} '{shown(raw)}' is not a date and time such as "
            "15/11/25, 09:30:17", line, f"{which}_unreadable", (("value", shown(raw)),))
    return stamp
