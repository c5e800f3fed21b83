"""Reading an uploaded Excel workbook (.xlsx) as rows of text, as `textfiles.read_rows` reads CSV.

Facilitators keep participant lists in Excel; saving a copy as "CSV UTF-8" first is a step
they get wrong (the wrong CSV flavour, or the old encoding). The first sheet of a workbook is
read instead, with the same answers as for CSV: the row numbers are the sheet's own (the
header is row 1, as Excel shows it), every cell becomes the text Excel shows for it, and what
no importer should take is a located problem, never a traceback.

A workbook is a zip archive; a hostile one can claim to hold far more than it is. The parts'
declared sizes are checked before anything is read (the zip reader never reads past a
declared size), so a small upload cannot unpack into gigabytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

from .textfiles import CELL_MAX, TableProblem, checked_row

ZIP_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (and other old Office files)
# No list of people unpacks to more than this; a zip bomb does.
UNPACKED_MAX = 50 * 1024 * 1024

UNREADABLE_WORKBOOK = "unreadable_workbook"
OLD_EXCEL = "old_excel"
UNREADABLE_MESSAGE = ("the file cannot be read as an Excel workbook (.xlsx); save it again "
                      "from Excel, or save it as 'CSV UTF-8'")
OLD_EXCEL_MESSAGE = ("the file is in the old Excel format (.xls); save it from Excel as an "
                     "Excel workbook (.xlsx) or as 'CSV UTF-8'")


def is_workbook(data: bytes | str) -> bool:
    """Whether an upload is a zip archive (an .xlsx) or an old binary Office file."""
    return isinstance(data, bytes) and data.startswith((ZIP_MAGIC, OLD_EXCEL_MAGIC))


def read_workbook_rows(
    data: bytes, max_rows: int | None = None, max_cell: int = CELL_MAX,
) -> Iterator[tuple[int, list[str], list[TableProblem]]]:
    """(row, cells, problems) for each row of the workbook's first sheet, the header first,
    as `textfiles.read_rows` gives them for CSV; what stops the reading is raised as
    TableProblem (the file is not a readable workbook, too many rows or columns)."""
    if data.startswith(OLD_EXCEL_MAGIC):
        raise TableProblem(1, None, OLD_EXCEL, OLD_EXCEL_MESSAGE)
    sheet = _first_sheet(data)
    count = 0
    try:
        # From row 1 whatever the sheet's stored dimensions say: the read-only reader fills
        # the rows the file leaves out, so the position is the row number Excel shows.
        for line, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            cells = [cell_text(value) for value in row]
            while cells and cells[-1] == "":
                cells.pop()  # a sheet's used range is often wider than its data
            count, problems = checked_row(cells, line, count, max_rows, max_cell)
            yield line, cells, problems
    except TableProblem:
        raise
    except Exception:  # openpyxl raises what its XML and zip readers raise: not ours to list
        raise TableProblem(1, None, UNREADABLE_WORKBOOK, UNREADABLE_MESSAGE) from None
    finally:
        sheet.parent.close()


def _first_sheet(data: bytes):
    """The workbook's first worksheet, read-only, with the values Excel last calculated (a
    formula's result, not its text); TableProblem if the file is not a workbook or claims to
    unpack to more than UNPACKED_MAX."""
    from openpyxl import load_workbook  # only an upload of a workbook needs it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
        if unpacked > UNPACKED_MAX:
            raise TableProblem(1, None, UNREADABLE_WORKBOOK, UNREADABLE_MESSAGE)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = workbook.worksheets
    except TableProblem:
        raise
    except Exception:  # a damaged or encrypted file, another zip, a part missing
        raise TableProblem(1, None, UNREADABLE_WORKBOOK, UNREADABLE_MESSAGE) from None
    if not sheets:
        workbook.close()
        raise TableProblem(1, None, UNREADABLE_WORKBOOK, UNREADABLE_MESSAGE)
    return sheets[0]


def cell_text(value: object) -> str:
    """A cell as the text a person reads in it: a whole number without ".0", a date without
    a time of midnight, an empty cell as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (value.date().isoformat() if value.time() == time(0) else
                value.isoformat(sep=" ", timespec="minutes"))
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
