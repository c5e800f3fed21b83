"""Survey answers from CSV: paper questionnaires typed in, or another tool's export.

One row per response; the header names the columns by question id (`id`, or `id.area` for
each area of a self-assessment, as in exports). Cells take numbers or labels; multiple choices
are separated by `|`. Identified surveys need an `email` column; anonymous surveys refuse any
identifying column. Optional `submitted_on` (YYYY-MM-DD or DD-MM-YYYY). Every bad cell is
reported with its row and column, and a file with any bad cell yields nothing.

An anonymous survey that defines a breakdown (`breakdown: organisation` or `role`) also takes
that column, so paper answers get the same breakdown as web answers. Each cell must be one of
the cohort's values (given by the caller; compared without regard to case and spacing, stored
in the cohort's spelling) or empty (not broken down).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from .participants import RowError, is_valid_email, normalise_email, table_row_error
from .programme import SelfAssessmentQuestion
from .surveys import AREA_SEPARATOR, SurveySpec, answer_columns, normalise_answer
from .textfiles import (
    NOT_UTF8,
    NotUtf8,
    TableProblem,
    decode_utf8,
    first_line,
    read_rows,
    sniff_delimiter,
)

IDENTIFYING = ("email", "e-mail", "name", "navn", "participant", "deltager", "deltaker",
               "invitation")
DATE_COLUMNS = ("submitted_on", "date", "dato")
# The header names a survey's breakdown column may have (in lower case).
BREAKDOWN_COLUMNS = {"organisation": ("organisation", "organization", "organisasjon"),
                     "role": ("role", "rolle")}
BREAKDOWN = "breakdown"
_DMY = re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})$")


@dataclass(frozen=True)
class ParsedResponse:
    row: int
    answers: dict[str, Any]
    submitted_on: date
    email: str | None = None
    breakdown: str | None = None  # the cohort's value of the survey's breakdown, if given


class ResponseImportError(ValueError):
    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def parse_responses_csv(spec: SurveySpec, data: bytes | str, today: date,
                        breakdown_values: Collection[str] = ()) -> list[ParsedResponse]:
    """CSV -> validated responses (required questions are not enforced on paper).

    `breakdown_values`: the cohort's values of the survey's breakdown attribute (its
    participants' organisations or roles), against which a breakdown column is checked."""
    text = _decode(data)
    if not first_line(text).strip():
        raise ResponseImportError([RowError(1, "-", "the file is empty", "empty_file")])
    reader = read_rows(text, sniff_delimiter(first_line(text)))
    header: list[str] = []
    errors: list[RowError] = []
    try:
        _, cells, problems = next(reader)
        header = [cell.strip() for cell in cells]
        if problems:
            raise ResponseImportError([table_row_error(p, header) for p in problems])
        columns = _map_header(spec, header)
        responses: list[ParsedResponse] = []
        seen_emails: dict[str, int] = {}
        for row, cells, problems in reader:
            if problems:
                errors += [table_row_error(p, header) for p in problems]
                continue
            values = {name: (cells[i].strip() if i < len(cells) else "")
                      for i, name in columns.items()}
            if not any(values.values()):
                continue
            parsed, row_errors = _parse_row(spec, values, row, today)
            if parsed and BREAKDOWN in values:
                parsed, problem = _with_breakdown(spec, parsed, values[BREAKDOWN],
                                                  breakdown_values)
                row_errors += [problem] if problem else []
            if parsed and parsed.email:
                first = seen_emails.setdefault(parsed.email, row)
                if first != row:
                    row_errors.append(RowError(
                        row, "email", f"'{parsed.email}' is a duplicate (also in row {first})"))
            if row_errors:
                errors.extend(row_errors)
            elif parsed:
                responses.append(parsed)
    except TableProblem as problem:  # what stops the reading, after the rows before it
        raise ResponseImportError([*errors, table_row_error(problem, header)]) from None
    if errors:
        raise ResponseImportError(errors)
    if not responses:
        raise ResponseImportError([RowError(2, "-", "the file has no responses")])
    return responses


def _decode(data: bytes | str) -> str:
    try:
        return decode_utf8(data)
    except NotUtf8 as exc:
        raise ResponseImportError([RowError(exc.line, "-", NOT_UTF8, "not_utf8")]) from None


def _map_header(spec: SurveySpec, header: list[str]) -> dict[int, str]:
    """Column index -> answer column name, 'email' or 'submitted_on'; errors for the rest."""
    known = {c.name for c in answer_columns(spec)}
    columns: dict[int, str] = {}
    errors: list[RowError] = []
    for index, title in enumerate(header):
        lowered = title.lower()
        if title in known:
            name = title
        elif lowered in DATE_COLUMNS:
            name = "submitted_on"
        elif spec.anonymous and lowered in BREAKDOWN_COLUMNS.get(spec.breakdown or "", ()):
            name = BREAKDOWN
        elif lowered in IDENTIFYING:
            if spec.anonymous:
                errors.append(RowError(1, title, "this survey is anonymous: remove the "
                                                 "column, answers must not carry who gave them"))
                continue
            if lowered not in ("email", "e-mail"):
                continue  # a name column next to the email is harmless and ignored
            name = "email"
        elif not title:
            continue
        else:
            expected = ", ".join(c.name for c in answer_columns(spec))
            errors.append(RowError(1, title, f"no question '{title}' in survey '{spec.key}'; "
                                             f"columns: {expected}"))
            continue
        if name in columns.values():
            errors.append(RowError(1, title, "this column appears twice"))
            continue
        columns[index] = name
    if not spec.anonymous and "email" not in columns.values():
        errors.append(RowError(1, "email", "this survey is identified: add an 'email' column"))
    if not errors and not (set(columns.values()) & known):
        errors.append(RowError(1, "-", "no column is named after a question of the survey"))
    if errors:
        raise ResponseImportError(errors)
    return columns


def _parse_row(
    spec: SurveySpec, values: dict[str, str], row: int, today: date
) -> tuple[ParsedResponse | None, list[RowError]]:
    errors: list[RowError] = []
    answers: dict[str, Any] = {}
    for question in spec.questions:
        if isinstance(question, SelfAssessmentQuestion):
            raw: Any = {a.id: values.get(f"{question.id}{AREA_SEPARATOR}{a.id}", "")
                        for a in question.areas}
        else:
            raw = values.get(question.id, "")
        value, problems = normalise_answer(question, raw, spec.language, enforce_required=False)
        errors += [RowError(row, p.column, p.message) for p in problems]
        if value is not None and not problems:
            answers[question.id] = value
    submitted_on = today
    if values.get("submitted_on"):
        try:
            submitted_on = _date(values["submitted_on"])
        except ValueError:
            errors.append(RowError(row, "submitted_on", f"'{values['submitted_on']}' is not a "
                                                        "date such as 2025-10-15 or 15-10-2025"))
    email = None
    if "email" in values:
        email = normalise_email(values["email"])
        if not email:
            errors.append(RowError(row, "email", "email is missing"))
        elif not is_valid_email(email):
            errors.append(RowError(row, "email", f"'{values['email']}' is not a valid email "
                                                 "address"))
    if not answers and not errors:
        errors.append(RowError(row, "-", "the row has no answers"))
    return ParsedResponse(row, answers, submitted_on, email), errors


def _with_breakdown(spec: SurveySpec, parsed: ParsedResponse, cell: str,
                    allowed: Collection[str]) -> tuple[ParsedResponse, RowError | None]:
    """The response with its breakdown value in the cohort's spelling, or the cell's error."""
    wanted = " ".join(cell.split()).casefold()
    if not wanted:
        return parsed, None
    known = {" ".join(v.split()).casefold(): v for v in allowed if v and v.strip()}
    if wanted in known:
        return ParsedResponse(parsed.row, parsed.answers, parsed.submitted_on, parsed.email,
                              known[wanted]), None
    what = "an organisation" if spec.breakdown == "organisation" else "a role"
    listed = ", ".join(sorted(known.values())) or "none recorded"
    return parsed, RowError(parsed.row, spec.breakdown or BREAKDOWN,
                            f"'{cell}' is not {what} of this cohort; use one of: {listed}")


def _date(value: str) -> date:
    match = _DMY.match(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return date.fromisoformat(value)
