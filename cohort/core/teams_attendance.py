"""Microsoft Teams attendance reports -> one row per attendee with their time in the meeting.

What Teams writes (a ".csv" that is really tab-separated, usually UTF-16 LE with a BOM; files
re-saved by Excel or other tools come as UTF-8 and sometimes with ';' or ','):

- the current, sectioned report::

      1. Summary
      Meeting title            Webinar 1
      Attended participants    27
      Start time               08/05/25, 12:58:03
      End time                 08/05/25, 15:02:11
      Meeting duration         2h 4m 8s
      Average attendance time  1h 41m 2s

      2. Participants
      Name  First Join  Last Leave  In-Meeting Duration  Email  Participant ID (UPN)  Role
      ...

      3. In-Meeting Activities     (one row per join/leave; not needed, ignored)

- the older flat list: ``Full Name | User Action | Timestamp`` with one row per "Joined",
  "Joined before" or "Left" event.

Section titles and headers are localised, so sections are found by their number ("2. ...")
and columns by keywords in English, Danish and Norwegian. Dates follow the exporting PC's
locale ("15/11/22, 09:30:17", "7/22/26, 7:00:11 PM", "08.05.2025 13.02.11", ISO): the day/month
order is chosen once per file, as the one that reads every timestamp and lands nearest the
meeting. Timestamps carry no zone; they are read in the cohort's zone.

A person appearing on several rows (rejoined from another device, or as a guest and with an
account) is folded into one attendee whose durations are summed. Any problem is a
`TeamsReportError` naming the line and what was expected; nothing is half-parsed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .teams_times import (
    DURATION_MAX,
    DURATION_TOO_LONG,
    DURATION_UNREADABLE,
    END_TIME,
    JOIN_TIME,
    LEAVE_TIME,
    START_TIME,
    TIMESTAMP_TIME,
    Clock,
    DurationTooLong,
    DurationUnreadable,
    Stamp,
    TeamsReportError,
    parse_duration,
    shown,
    stamp_or_error,
)
from .text import single_line_problem
from .textfiles import TableProblem, split_line

SECTIONED = "sectioned"  # "1. Summary" / "2. Participants" / ...
FLAT = "flat"  # Full Name / User Action / Timestamp
TABLE = "table"  # a participants table on its own (copied out of a sectioned report)


@dataclass(frozen=True)
class Attendee:
    line: int  # first line of the file about this person
    name: str
    email: str | None  # lower-case; None for guests without an address
    duration: timedelta | None  # None when the report leaves durations out
    first_join: datetime | None
    last_leave: datetime | None
    role: str = ""
    rows: int = 1  # rows of the file folded into this attendee


@dataclass(frozen=True)
class TeamsReport:
    layout: str
    encoding: str
    title: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    duration: timedelta | None  # the meeting's length as Teams saw it
    attendees: list[Attendee]
    lines: int


# --- reading bytes --------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """Bytes -> (text, encoding), recognising UTF-16 with or without BOM, UTF-8 and cp1252."""
    if not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise TeamsReportError("the file is empty", code=EMPTY_FILE)
    if data.startswith(b"PK\x03\x04"):
        raise TeamsReportError("this is an Excel workbook (.xlsx); download the attendance "
                               "report from Teams as .csv and import that file", code=XLSX_FILE)
    if data.startswith(b"%PDF"):
        raise TeamsReportError("this is a PDF; import the .csv attendance report from Teams",
                               code=PDF_FILE)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16"), "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data, "utf-8-sig"), "utf-8"
    head = data[:400]
    if head[1::2].count(0) > len(head) // 4:
        return _decode(data, "utf-16-le"), "utf-16-le"
    if head[0::2].count(0) > len(head) // 4:
        return _decode(data, "utf-16-be"), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TeamsReportError(f"the file claims to be {encoding} but is not "
                               f"(byte {exc.start}); download it again from Teams",
                               code=WRONG_ENCODING,
                               params=(("encoding", encoding), ("byte", exc.start))) from None


# --- columns --------------------------------------------------------------------------------

NAME, FIRST_JOIN, LAST_LEAVE, DURATION, EMAIL, UPN, ROLE, ACTION, TIMESTAMP = (
    "name", "first_join", "last_leave", "duration", "email", "upn", "role", "action",
    "timestamp")

# First keyword found wins, in this order ("Participant ID (UPN)" before "name" or "email").
_COLUMN_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (UPN, ("upn", "participant id", "deltager-id", "deltaker-id")),
    (EMAIL, ("e-mail", "email", "e-post", "epost", "mail")),
    (DURATION, ("duration", "varighed", "varighet")),
    (FIRST_JOIN, ("first join", "join time", "joined", "første", "forste", "deltog")),
    (LAST_LEAVE, ("last leave", "leave time", "sidste", "siste", "forlod", "forlot")),
    (ROLE, ("role", "rolle")),
    (ACTION, ("user action", "action", "handling")),
    (TIMESTAMP, ("timestamp", "tidsstempel", "tidspunkt")),
    (NAME, ("full name", "name", "navn")),
)
_PARTICIPANT_HEADER = "Name, First Join, Last Leave, In-Meeting Duration, Email, Role"
_FLAT_HEADER = "Full Name, User Action, Timestamp"
# Codes of the file's problems, so the page words them in the reader's language (the web's
# ROW_ERRORS; the message is the English).
EMPTY_FILE, XLSX_FILE, PDF_FILE, WRONG_ENCODING, NOT_A_REPORT, NAME_EMPTY = (
    "empty_file", "xlsx_report", "pdf_report", "report_encoding", "not_a_report", "name_empty")
NO_PARTICIPANTS_SECTION, PARTICIPANTS_SECTION_EMPTY, PARTICIPANTS_HEADER_EXPECTED = (
    "no_participants_section", "participants_section_empty", "participants_header_expected")
PARTICIPANT_ROW_EXPECTED, ACTION_EXPECTED, TIMESTAMP_EMPTY, NO_ATTENDEES = (
    "participant_row_expected", "action_expected", "timestamp_empty", "no_attendees")


def classify_header(cells: Sequence[str]) -> dict[str, int]:
    """Column kind -> index for a header row (the first column of a kind wins)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = " ".join(cell.strip().casefold().split())
        for kind, keywords in _COLUMN_KEYWORDS:
            if any(k in text for k in keywords):
                found.setdefault(kind, index)
                break
    return found


def _is_participant_header(columns: dict[str, int], sectioned: bool = True) -> bool:
    """Inside "2. Participants" a name and an email or time suffice (a policy may leave
    durations out); a table on its own needs durations, or any name list would pass."""
    if not sectioned:
        return NAME in columns and DURATION in columns
    return NAME in columns and (DURATION in columns or FIRST_JOIN in columns
                                or EMAIL in columns)


def _is_flat_header(columns: dict[str, int]) -> bool:
    return {NAME, ACTION, TIMESTAMP} <= columns.keys()


# --- the file -------------------------------------------------------------------------------

_SECTION = re.compile(r"\s*(\d)\.\s+\S.*")


@dataclass
class _Row:
    line: int
    cells: list[str]


def parse_teams_report(data: bytes, timezone: str = "Europe/Copenhagen",
                       near: datetime | None = None) -> TeamsReport:
    """Parse a Teams attendance report; `near` (the meeting's start) settles day/month order."""
    text, encoding = decode(data)
    lines = text.splitlines()
    delimiter = _delimiter(lines)
    rows = _rows(lines, delimiter)
    if not rows:
        raise TeamsReportError("the file is empty", code=EMPTY_FILE)
    zone = ZoneInfo(timezone)
    sections = _sections(rows)
    if sections:
        return _parse_sectioned(sections, rows, encoding, zone, near, len(lines))
    columns = classify_header(rows[0].cells)
    if _is_flat_header(columns):
        return _parse_flat(rows[0], rows[1:], columns, encoding, zone, near, len(lines))
    if _is_participant_header(columns, sectioned=False):
        attendees, clock_stamps = _participant_rows(rows[0], rows[1:], columns)
        clock = Clock(clock_stamps, zone, near)
        return TeamsReport(TABLE, encoding, None, None, None, None,
                           _finish(attendees, clock), len(lines))
    raise TeamsReportError(
        "this does not look like a Teams attendance report: expected '1. Summary' followed by "
        f"'2. Participants' with the header {_PARTICIPANT_HEADER}, or the older header "
        f"{_FLAT_HEADER}; found '{_shorten(rows[0].cells)}'", rows[0].line, NOT_A_REPORT,
        (("header", _PARTICIPANT_HEADER), ("flat", _FLAT_HEADER),
         ("found", _shorten(rows[0].cells))))


def _delimiter(lines: list[str]) -> str:
    sample = lines[:60]
    if any("\t" in line for line in sample):
        return "\t"
    semicolons = sum(line.count(";") for line in sample)
    commas = sum(line.count(",") for line in sample)
    return ";" if semicolons >= commas else ","


def _rows(lines: list[str], delimiter: str) -> list[_Row]:
    """The non-blank lines as cells: one line, one row (a stray quote in a name does not run
    on into the next lines); a NUL byte, an absurdly long cell or too many of them refused."""
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip(" \t\ufeff"):
            continue
        try:
            cells, problems = split_line(line, delimiter, number,
                                         skip_initial_space=delimiter != "\t")
        except TableProblem as problem:
            raise _located(problem, rows) from None
        if problems:
            raise _located(problems[0], rows)
        rows.append(_Row(number, [c.strip().lstrip("\ufeff").strip() for c in cells]))
    return rows


def _located(problem: TableProblem, rows: list[_Row]) -> TeamsReportError:
    """A cell's problem with its column named after the nearest header above it."""
    column = ""
    if problem.column is not None:
        column = str(problem.column + 1)
        header = next((r.cells for r in reversed(rows) if len(classify_header(r.cells)) >= 2),
                      None)
        title = header[problem.column] if header and problem.column < len(header) else ""
        if title and single_line_problem(title, 60) is None:
            column = title
    return TeamsReportError(problem.message, problem.row, problem.code, problem.params,
                            shown(column))


def _shorten(cells: list[str]) -> str:
    text = ", ".join(c for c in cells if c)
    return text if len(text) <= 80 else text[:77] + "..."


def _sections(rows: list[_Row]) -> dict[int, list[_Row]]:
    """Rows grouped by the section they follow ('1. Summary' -> 1); {} when there are none."""
    sections: dict[int, list[_Row]] = {}
    current: int | None = None
    for row in rows:
        filled = [c for c in row.cells if c]
        if len(filled) == 1 and _SECTION.fullmatch(filled[0]) and row.cells[0]:
            current = int(_SECTION.fullmatch(filled[0]).group(1))
            sections[current] = [row]
        elif current is not None:
            sections[current].append(row)
    return sections


def _parse_sectioned(sections: dict[int, list[_Row]], rows: list[_Row], encoding: str,
                     zone: ZoneInfo, near: datetime | None, line_count: int) -> TeamsReport:
    if 2 not in sections:
        heading = rows[0]
        raise TeamsReportError(
            "the report has no participants section: expected a line '2. Participants' "
            f"followed by the header {_PARTICIPANT_HEADER}", heading.line,
            NO_PARTICIPANTS_SECTION, (("header", _PARTICIPANT_HEADER),))
    title, start, end, duration = _summary(sections.get(1, [])[1:])
    heading, *table = sections[2]
    if not table:
        raise TeamsReportError(
            f"the participants section is empty: expected the header {_PARTICIPANT_HEADER}",
            heading.line, PARTICIPANTS_SECTION_EMPTY, (("header", _PARTICIPANT_HEADER),))
    columns = classify_header(table[0].cells)
    if not _is_participant_header(columns):
        raise TeamsReportError(
            f"expected the participants header {_PARTICIPANT_HEADER}; found "
            f"'{_shorten(table[0].cells)}'", table[0].line, PARTICIPANTS_HEADER_EXPECTED,
            (("header", _PARTICIPANT_HEADER), ("found", _shorten(table[0].cells))))
    attendees, stamps = _participant_rows(table[0], table[1:], columns)
    clock = Clock([s for s in (start, end) if s] + stamps, zone, near)
    starts_at, ends_at = clock.read(start), clock.read(end)
    if duration is None and starts_at and ends_at and ends_at > starts_at:
        duration = ends_at - starts_at
    return TeamsReport(SECTIONED, encoding, title, starts_at, ends_at, duration,
                       _finish(attendees, clock), line_count)


def _duration_error(exc: ValueError, line: int, column: str) -> TeamsReportError:
    if isinstance(exc, DurationTooLong):
        hours = int(DURATION_MAX.total_seconds() // 3600)
        return TeamsReportError(str(exc), line, DURATION_TOO_LONG, (("max", hours),),
                                shown(column))
    value = exc.value if isinstance(exc, DurationUnreadable) else ""
    return TeamsReportError(str(exc), line, DURATION_UNREADABLE, (("value", value),),
                            shown(column))


def _summary(rows: list[_Row]):
    title = start = end = duration = None
    for row in rows:
        key = row.cells[0].casefold()
        value = row.cells[1] if len(row.cells) > 1 else ""
        if not value or _SUMMARY_SKIP.search(key):
            continue
        if _SUMMARY_TITLE.search(key):
            title = value
        elif _SUMMARY_DURATION.search(key):
            try:
                duration = parse_duration(value)
            except ValueError as exc:
                raise _duration_error(exc, row.line, row.cells[0]) from None
        elif _SUMMARY_START.search(key):
            start = stamp_or_error(value, row.line, START_TIME)
        elif _SUMMARY_END.search(key):
            end = stamp_or_error(value, row.line, END_TIME)
    return title, start, end, duration


# Summary keys in English, Danish and Norwegian ("Attended participants" must not read as end).
_SUMMARY_SKIP = re.compile(r"average|gennemsnit|gjennomsnitt|participant|deltager|deltaker")
_SUMMARY_TITLE = re.compile(r"title|titel|tittel")
_SUMMARY_DURATION = re.compile(r"duration|varighed|varighet")
_SUMMARY_START = re.compile(r"\bstart|\bbegyn")
_SUMMARY_END = re.compile(r"\bend|\bslut")


@dataclass
class _Pending:
    """An attendee before timestamps are read (the day/month order is chosen per file)."""

    line: int
    name: str
    email: str | None
    duration: timedelta | None
    first_join: Stamp | None
    last_leave: Stamp | None
    role: str


def _participant_rows(header: _Row, rows: list[_Row], columns: dict[str, int]):
    width = max(columns.values()) + 1
    attendees: list[_Pending] = []
    stamps: list[Stamp] = []
    for row in rows:
        cells = row.cells + [""] * (width - len(row.cells))
        if len([c for c in row.cells if c]) < 2:
            raise TeamsReportError(
                f"expected a participant row with the columns of line {header.line} "
                f"({_shorten(header.cells)}); found '{_shorten(row.cells)}'", row.line,
                PARTICIPANT_ROW_EXPECTED,
                (("line", header.line), ("header", _shorten(header.cells)),
                 ("found", _shorten(row.cells))))
        name = cells[columns[NAME]]
        if not name:
            raise TeamsReportError("the name is empty", row.line, NAME_EMPTY)
        duration = None
        if DURATION in columns:
            raw = cells[columns[DURATION]]
            try:
                duration = parse_duration(raw) if raw else timedelta()
            except ValueError as exc:
                raise _duration_error(exc, row.line, header.cells[columns[DURATION]]) from None
        first = (stamp_or_error(cells[columns[FIRST_JOIN]], row.line, JOIN_TIME)
                 if FIRST_JOIN in columns else None)
        last = (stamp_or_error(cells[columns[LAST_LEAVE]], row.line, LEAVE_TIME)
                if LAST_LEAVE in columns else None)
        stamps.extend(s for s in (first, last) if s)
        attendees.append(_Pending(row.line, name, _email(cells, columns), duration, first, last,
                                  cells[columns[ROLE]] if ROLE in columns else ""))
    return attendees, stamps


def _email(cells: list[str], columns: dict[str, int]) -> str | None:
    """The Email column; else the UPN when it is a plain address (not a guest's #EXT# id)."""
    for kind in (EMAIL, UPN):
        if kind in columns:
            value = cells[columns[kind]].strip().lower()
            if "@" in value and "#ext#" not in value and " " not in value:
                return value
    return None


def _finish(pending: list[_Pending], clock: Clock) -> list[Attendee]:
    attendees = [Attendee(p.line, p.name, p.email, p.duration, clock.read(p.first_join),
                          clock.read(p.last_leave), p.role) for p in pending]
    return fold_duplicates(attendees)


def identity(attendee: Attendee) -> str:
    """Rows about the same person: same address, or (without one) the same name."""
    return attendee.email or "name:" + " ".join(attendee.name.casefold().split())


def fold_duplicates(attendees: list[Attendee]) -> list[Attendee]:
    """One attendee per person, durations summed, earliest join and latest leave kept."""
    folded: dict[str, Attendee] = {}
    for attendee in attendees:
        key = identity(attendee)
        seen = folded.get(key)
        if seen is None:
            folded[key] = attendee
            continue
        folded[key] = replace(
            seen,
            duration=(None if seen.duration is None or attendee.duration is None
                      else seen.duration + attendee.duration),
            first_join=_earliest(seen.first_join, attendee.first_join),
            last_leave=_latest(seen.last_leave, attendee.last_leave),
            rows=seen.rows + attendee.rows,
        )
    return list(folded.values())


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x) if (a or b) else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x) if (a or b) else None


# --- the older flat list --------------------------------------------------------------------

_JOIN_WORDS = ("join", "deltog", "tilsluttet", "ble med", "koblet til")
_LEAVE_WORDS = ("left", "leave", "forlod", "forlot", "koblet fra")


def _parse_flat(header: _Row, rows: list[_Row], columns: dict[str, int], encoding: str,
                zone: ZoneInfo, near: datetime | None, line_count: int) -> TeamsReport:
    width = max(columns.values()) + 1
    events: list[tuple[_Row, str, bool, Stamp]] = []
    for row in rows:
        cells = row.cells + [""] * (width - len(row.cells))
        name, action = cells[columns[NAME]], cells[columns[ACTION]].casefold()
        if not name:
            raise TeamsReportError("the name is empty", row.line, NAME_EMPTY)
        joined = any(w in action for w in _JOIN_WORDS)
        if not joined and not any(w in action for w in _LEAVE_WORDS):
            raise TeamsReportError(
                f"expected the action Joined, Joined before or Left; found "
                f"'{shown(cells[columns[ACTION]])}'", row.line, ACTION_EXPECTED,
                (("found", shown(cells[columns[ACTION]])),))
        stamp = stamp_or_error(cells[columns[TIMESTAMP]], row.line, TIMESTAMP_TIME)
        if stamp is None:
            raise TeamsReportError("the timestamp is empty", row.line, TIMESTAMP_EMPTY)
        events.append((row, name, joined, stamp))
    if not events:
        raise TeamsReportError(f"no attendees under the header {_FLAT_HEADER}", header.line,
                               NO_ATTENDEES, (("header", _FLAT_HEADER),))
    clock = Clock([e[3] for e in events], zone, near)
    timed = [(row, name, joined, clock.read(stamp)) for row, name, joined, stamp in events]
    report_start = min(t[3] for t in timed)
    report_end = max(t[3] for t in timed)
    attendees = _flat_attendees(timed, report_start, report_end)
    return TeamsReport(FLAT, encoding, None, report_start, report_end,
                       report_end - report_start, attendees, line_count)


def _flat_attendees(timed, report_start: datetime, report_end: datetime) -> list[Attendee]:
    """Pair each Joined with the next Left; an open join lasts until the report's last event."""
    by_person: dict[str, list] = {}
    for event in timed:
        by_person.setdefault(" ".join(event[1].casefold().split()), []).append(event)
    attendees = []
    for events in by_person.values():
        events.sort(key=lambda e: (e[3], not e[2]))
        total, opened = timedelta(), None
        for _row, _name, joined, at in events:
            if joined:
                opened = at if opened is None else opened
            else:
                total += at - (opened if opened is not None else report_start)
                opened = None
        if opened is not None:
            total += report_end - opened
        first = events[0]
        attendees.append(Attendee(
            first[0].line, first[1], None, total,
            min((e[3] for e in events if e[2]), default=None),
            max((e[3] for e in events if not e[2]), default=None), rows=len(events)))
    return attendees
