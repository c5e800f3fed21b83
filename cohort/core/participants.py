"""Participant lists, as facilitators keep them in Excel: a workbook (.xlsx, its first sheet)
or a CSV file saved from it.

Danish and Norwegian Excel writes semicolon-separated files, often with a byte-order mark;
English Excel writes commas. Every bad row is reported at once (row and column) so the
facilitator fixes the file in one go, and nothing of a bad file is imported.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .programme import LANGUAGES
from .text import CONTROL_CHARACTER, CONTROL_CHARACTERS, TOO_LONG, single_line_problem
from .textfiles import (
    NOT_UTF8,
    NotUtf8,
    TableProblem,
    decode_utf8,
    first_line,
    read_rows,
    sniff_delimiter,
)
from .workbooks import is_workbook, read_workbook_rows

COLUMNS = ("name", "email", "organisation", "role", "language")
# Header words facilitators actually use, in the three languages.
_ALIASES = {
    "name": "name", "navn": "name", "fulde navn": "name", "full name": "name",
    "email": "email", "e-mail": "email", "mail": "email", "e-post": "email", "epost": "email",
    "organisation": "organisation", "organization": "organisation",
    "organisasjon": "organisation", "kommune": "organisation", "arbejdssted": "organisation",
    "arbeidssted": "organisation",
    "role": "role", "rolle": "role", "stilling": "role",
    "language": "language", "sprog": "language", "språk": "language", "sprak": "language",
}
_LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "nob": "nb", "dk": "da", "dan": "da", "eng": "en"}
_EMAIL = re.compile(rf"^[^@\s,;<>\"{CONTROL_CHARACTERS}]+"
                    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
# The longest name, organisation and role (as the web form's).
TEXT_COLUMNS = {"name": 200, "organisation": 200, "role": 200}


@dataclass(frozen=True)
class ParticipantRow:
    name: str
    email: str
    organisation: str = ""
    role: str = ""
    language: str = "da"


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file, the header being row 1
    column: str
    message: str
    # A stable code and its values, so other languages can word the message themselves.
    code: str = ""
    params: tuple[tuple[str, str | int], ...] = ()

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class ParticipantImportError(ValueError):
    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def normalise_email(value: str) -> str:
    return value.strip().lower()


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value)) and len(value) <= 254


# Rows one web upload may hold (the command line can allow more): a request that adds
# thousands of people, each with their invitations and emails, holds the write lock too long.
WEB_ROWS_MAX = 2000


def parse_participant_list(
    data: bytes | str,
    default_language: str = "da",
    existing_emails: Iterable[str] = (),
    max_rows: int | None = None,
) -> list[ParticipantRow]:
    """An Excel workbook's or a CSV file's bytes -> participant rows, or
    ParticipantImportError listing every bad row.

    More than `max_rows` people (None: no limit) is refused with the limit in the message.
    """
    reader = _rows(data, max_rows)
    header: list[str] = []
    errors: list[RowError] = []
    try:
        _, cells, problems = next(reader)
        header = [cell.strip().lower() for cell in cells]
        if problems:
            raise ParticipantImportError([table_row_error(p, header) for p in problems])
        columns = _map_header(header)
        rows: list[ParticipantRow] = []
        seen = {normalise_email(e): None for e in existing_emails}
        for row_number, cells, problems in reader:
            if problems:
                errors += [table_row_error(p, header) for p in problems]
                continue
            if not any(cell.strip() for cell in cells):
                continue
            values = {field: cells[i].strip() if i < len(cells) else ""
                      for field, i in columns.items()}
            row_errors = _check_row(values, row_number, seen, default_language)
            if row_errors:
                errors.extend(row_errors)
                continue
            email = normalise_email(values["email"])
            seen[email] = row_number
            rows.append(ParticipantRow(
                name=values["name"], email=email,
                organisation=values.get("organisation", ""), role=values.get("role", ""),
                language=_language(values.get("language", "")) or default_language,
            ))
    except TableProblem as problem:  # what stops the reading, after the rows before it
        raise ParticipantImportError([*errors, table_row_error(problem, header)]) from None
    if errors:
        raise ParticipantImportError(errors)
    return rows


def _rows(data: bytes | str,
          max_rows: int | None) -> Iterator[tuple[int, list[str], list[TableProblem]]]:
    """The file's rows, the header first, whether it is a workbook or CSV text."""
    if is_workbook(data):
        # The header is the sheet's first row that is not blank (a sheet may start lower).
        rows = read_workbook_rows(data, max_rows)  # type: ignore[arg-type]
        try:
            first = next((row for row in rows if any(cell.strip() for cell in row[1])), None)
        except TableProblem as problem:
            raise ParticipantImportError([table_row_error(problem, [])]) from None
        if first is None:
            raise _empty()
        return itertools.chain([first], rows)
    text = _decode(data)
    if not first_line(text).strip():
        raise _empty()
    return read_rows(text, sniff_delimiter(first_line(text)), max_rows)


def _empty() -> ParticipantImportError:
    return ParticipantImportError([RowError(1, "name", "the file is empty", "empty_file")])


def table_row_error(problem: TableProblem, header: list[str]) -> RowError:
    """A file-level problem as a row error, its column named by the header when it can be."""
    column = "-"
    if problem.column is not None:
        title = header[problem.column].strip() if problem.column < len(header) else ""
        if single_line_problem(title, 60) is not None:
            title = ""  # a header cell that is itself the problem: its number instead
        column = _ALIASES.get(title.lower(), title) or str(problem.column + 1)
    return RowError(problem.row, column, problem.message, problem.code, problem.params)


def _decode(data: bytes | str) -> str:
    try:
        return decode_utf8(data)
    except NotUtf8 as exc:
        raise ParticipantImportError([RowError(exc.line, "-", NOT_UTF8, "not_utf8")]) from None


def _map_header(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    errors = []
    for index, title in enumerate(header):
        field = _ALIASES.get(title)
        if field and field in columns:
            errors.append(RowError(1, field, f"the {field} column appears twice",
                                   "duplicate_column", (("column", field),)))
        elif field:
            columns[field] = index
    missing = [c for c in ("name", "email") if c not in columns]
    errors += [RowError(1, c, f"no '{c}' column; the header needs: {', '.join(COLUMNS)}",
                        "missing_column", (("column", c),))
               for c in missing]
    if errors:
        raise ParticipantImportError(errors)
    return columns


def _language(value: str) -> str:
    value = value.strip().lower()
    return _LANGUAGE_ALIASES.get(value, value)


def _check_row(
    values: dict[str, str], row: int, seen: dict[str, int | None], default_language: str
) -> list[RowError]:
    errors = []
    for column, limit in TEXT_COLUMNS.items():
        problem = text_problem(column, values.get(column, ""), limit)
        if problem is not None:
            errors.append(RowError(row, column, *problem))
    if not values["name"]:
        errors.append(RowError(row, "name", "name is missing", "name_missing"))
    email = normalise_email(values["email"])
    if not email:
        errors.append(RowError(row, "email", "email is missing", "email_missing"))
    elif not is_valid_email(email):
        errors.append(RowError(row, "email", f"'{values['email']}' is not a valid email address",
                               "email_invalid", (("value", values["email"]),)))
    elif email in seen:
        where = f"row {seen[email]}" if seen[email] else "this cohort already"
        errors.append(RowError(row, "email", f"'{email}' is a duplicate (also in {where})",
                               "email_duplicate",
                               (("value", email), ("first_row", seen[email] or 0))))
    language = _language(values.get("language", ""))
    if language and language not in LANGUAGES:
        errors.append(RowError(
            row, "language", f"'{values['language']}' is not one of {', '.join(LANGUAGES)}",
            "language_invalid", (("value", values["language"]),),
        ))
    return errors


def text_problem(column: str, value: str,
                 limit: int) -> tuple[str, str, tuple[tuple[str, str | int], ...]] | None:
    """(message, code, params) of what is wrong with one text value, or None."""
    problem = single_line_problem(value, limit)
    if problem == CONTROL_CHARACTER:
        return (f"the {column} contains a line break or another control character",
                CONTROL_CHARACTER, ())
    if problem == TOO_LONG:
        return (f"the {column} is longer than {limit} characters", TOO_LONG, (("max", limit),))
    return None
