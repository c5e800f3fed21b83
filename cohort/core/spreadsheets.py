"""Tables of plain values -> CSV or XLSX bytes, for evaluators' exports.

CSV is written as Danish and Norwegian Excel reads it: UTF-8 with a byte-order mark and
semicolons; every text cell is quoted (so a comma, semicolon or line break stays in its cell
whichever separator a program guesses), numbers are not. Text that Excel would run as a formula
(starting with = + - @, tab or CR) is prefixed with an apostrophe in CSV and stored as plain
text in XLSX, so a participant's name or free-text answer cannot become a formula on the
evaluator's machine. Every CSV and XLSX file the app writes goes through here.

openpyxl (which brings numpy) is imported by `to_xlsx` alone: most commands and pages that
import this module write CSV or nothing, and would otherwise wait for it at every start.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n",
                        quoting=csv.QUOTE_NONNUMERIC)
    for row in [table.columns, *table.rows]:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> str | int | float:
    """A number as it is (written unquoted), anything else as text that is not a formula."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_xlsx(tables: Sequence[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        for row in [table.columns, *table.rows]:
            sheet.append([_xlsx_value(v, ILLEGAL_CHARACTERS_RE) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
        sheet.freeze_panes = "A2"
        for index, name in enumerate(table.columns, start=1):
            width = max([len(str(name))] + [len(str(r[index - 1] or ""))
                                            for r in table.rows[:200] if index - 1 < len(r)])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60) + 2
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_value(value: Any, illegal_characters: re.Pattern) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str):
        return illegal_characters.sub("", value)
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_SHEET_FORBIDDEN).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.lower() in used:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(name.lower())
    return name
