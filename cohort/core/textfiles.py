"""Reading uploaded spreadsheets saved as CSV, whatever the file looks like.

One reader for the three importers (participants, Teams attendance, paper answers), so a
hostile or odd file gets the same answer everywhere: UTF-8 with or without Excel's byte-order
mark (or UTF-16 with one, Excel's "Unicode text"); any line ending (CRLF from Windows, LF,
CR alone from old Mac Excel); every problem located by row and column, never a traceback:
a NUL byte, a cell longer than any real value, more columns or rows than a real file has.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

NOT_UTF8 = "the file is not UTF-8 text; in Excel choose 'CSV UTF-8' when saving"

# No name, address, timestamp or typed-in paper answer comes near these; a file that does is
# not a list of people (and the csv module itself stops at 128 KiB a cell).
CELL_MAX = 10_000  # characters in one cell
COLUMNS_MAX = 500  # cells in one row

# Codes of `TableProblem`, so each edge words the message in the reader's language.
NUL = "nul"
CELL_TOO_LONG = "cell_too_long"
TOO_MANY_COLUMNS = "too_many_columns"
TOO_MANY_ROWS = "too_many_rows"
UNREADABLE = "unreadable"


class NotUtf8(ValueError):
    """The file is in another encoding; `line` is where the first undecodable byte is."""

    def __init__(self, line: int):
        super().__init__(NOT_UTF8)
        self.line = line


class TableProblem(ValueError):
    """What stops a file from being read: `row` is the line in the file (the header is 1),
    `column` the 0-based cell (None: the whole row); `params` fill the code's message."""

    def __init__(self, row: int, column: int | None, code: str, message: str,
                 params: tuple[tuple[str, int], ...] = ()):
        super().__init__(message)
        self.row, self.column, self.code, self.message = row, column, code, message
        self.params = params


def decode_utf8(data: bytes | str) -> str:
    """Bytes -> text: UTF-8 (with or without BOM), or UTF-16 when a BOM says so."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise NotUtf8(1) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data[: exc.start].count(b"\n") + 1) from None


def first_line(text: str) -> str:
    """The header line, whatever ends it (CR, LF or CRLF)."""
    end = min((i for i in (text.find("\r"), text.find("\n")) if i >= 0), default=len(text))
    return text[:end]


def sniff_delimiter(header: str) -> str:
    """Danish and Norwegian Excel writes ';', English Excel ','."""
    return ";" if header.count(";") > header.count(",") else ","


def read_rows(text: str, delimiter: str, max_rows: int | None = None,
              max_cell: int = CELL_MAX) -> Iterator[tuple[int, list[str], list[TableProblem]]]:
    """(line, cells, problems) for each row of a CSV text, the header first.

    `line` is the file's line where the row ends (a quoted line break continues a row).
    `problems` are the row's bad cells (a NUL byte, longer than `max_cell`): the caller lists
    them with its own findings, so one upload shows every bad row. What stops the reading
    (more than `max_rows` rows after the header, not counting blank ones; more than
    COLUMNS_MAX cells in a row; a row the csv module refuses) is raised as TableProblem.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _unreadable("".join(lines.current), reader.line_num, delimiter, max_cell,
                              exc) from None
        line = reader.line_num
        lines.row_done()
        count, problems = checked_row(cells, line, count, max_rows, max_cell)
        yield line, cells, problems


def checked_row(cells: list[str], line: int, count: int, max_rows: int | None,
                max_cell: int = CELL_MAX) -> tuple[int, list[TableProblem]]:
    """One row read, by any reader of an uploaded table (CSV here, a workbook's sheet in
    core/workbooks.py): raises TableProblem for more than COLUMNS_MAX cells or, counting
    this row, more than `max_rows` rows after the header (blank rows do not count); returns
    the count of rows so far and the row's bad cells."""
    _check_width(cells, line)
    if any(cell.strip() for cell in cells):
        count += 1
        if max_rows is not None and count > max_rows + 1:
            raise TableProblem(line, None, TOO_MANY_ROWS,
                               f"the file has more than {max_rows} rows; split it into "
                               f"files of at most {max_rows}", (("max", max_rows),))
    return count, cell_problems(cells, line, max_cell)


def cell_problems(cells: list[str], line: int, max_cell: int = CELL_MAX) -> list[TableProblem]:
    """The cells of a row that no importer should take: NUL bytes, absurd lengths."""
    problems = []
    for column, cell in enumerate(cells):
        if "\x00" in cell:
            problems.append(TableProblem(line, column, NUL,
                                         "contains a NUL byte (is it a binary file?)"))
        elif len(cell) > max_cell:
            problems.append(TableProblem(line, column, CELL_TOO_LONG,
                                         f"the cell is longer than {max_cell} characters",
                                         (("max", max_cell),)))
    return problems


class _Lines:
    """The text's lines for the csv module (any line ending), remembering the current row's."""

    def __init__(self, text: str):
        self._lines = io.StringIO(text, newline="")  # "": CR, LF and CRLF all end a line
        self.current: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        return line

    def row_done(self) -> None:
        self.current = []


def split_line(line: str, delimiter: str, number: int, skip_initial_space: bool = False,
               max_cell: int = CELL_MAX) -> tuple[list[str], list[TableProblem]]:
    """One line of a file as one row (for readers that find their own rows): its cells and
    their problems, as `read_rows` gives them; TableProblem when it cannot be read."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter,
                                skipinitialspace=skip_initial_space), [])
    except csv.Error as exc:
        raise _unreadable(line, number, delimiter, max_cell, exc) from None
    _check_width(cells, number)
    return cells, cell_problems(cells, number, max_cell)


def _check_width(cells: list[str], line: int) -> None:
    if len(cells) > COLUMNS_MAX:
        raise TableProblem(line, None, TOO_MANY_COLUMNS,
                           f"the row has {len(cells)} columns; at most {COLUMNS_MAX}",
                           (("count", len(cells)), ("max", COLUMNS_MAX)))


def _unreadable(raw: str, line: int, delimiter: str, max_cell: int,
                exc: csv.Error) -> TableProblem:
    """A row the csv module refused (a cell over its own 128 KiB limit, ...): located."""
    for column, piece in enumerate(raw.split(delimiter)):
        if len(piece) > max_cell:
            return TableProblem(line, column, CELL_TOO_LONG,
                                f"the cell is longer than {max_cell} characters",
                                (("max", max_cell),))
    return TableProblem(line, None, UNREADABLE, f"the row cannot be read as CSV ({exc})")
