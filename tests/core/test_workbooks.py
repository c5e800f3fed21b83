"""An uploaded Excel workbook read as rows of text, and the hostile ones refused by row and
column, never with a traceback."""

from __future__ import annotations

import io
import zipfile

import pytest

from cohort.core.textfiles import CELL_MAX, COLUMNS_MAX, TableProblem
from cohort.core.workbooks import UNPACKED_MAX, cell_text, is_workbook, read_workbook_rows
from tests.fixtures.workbooks import workbook


def test_cells_read_as_excel_shows_them():
    from datetime import date, datetime, time

    assert [cell_text(v) for v in (None, "Anne", 7, 7.0, 7.5, True, datetime(2025, 3, 1),
                                   datetime(2025, 3, 1, 9, 30), date(2025, 3, 1),
                                   time(9, 30))] == [
        "", "Anne", "7", "7", "7.5", "TRUE", "2025-03-01", "2025-03-01 09:30", "2025-03-01",
        "09:30:00"]


def test_rows_keep_the_sheets_numbers_and_drop_the_empty_cells_at_their_end():
    data = workbook([["name", "email", None, None], [], ["Anne", "a@b.dk"]])
    assert is_workbook(data) and not is_workbook(b"name;email\n")
    assert list(read_workbook_rows(data)) == [
        (1, ["name", "email"], []), (2, [], []), (3, ["Anne", "a@b.dk"], [])]


def test_bad_cells_are_located_and_the_reading_goes_on():
    data = workbook([["name", "email"], ["x" * (CELL_MAX + 1), "a@b.dk"], ["Bo", "b@b.dk"]])
    rows = list(read_workbook_rows(data))
    (problem,) = rows[1][2]
    assert (problem.row, problem.column, problem.code) == (2, 0, "cell_too_long")
    assert rows[2] == (3, ["Bo", "b@b.dk"], [])


def test_more_rows_or_columns_than_a_list_of_people_stop_the_reading():
    many = workbook([["name"], *([f"p{n}"] for n in range(4))])
    with pytest.raises(TableProblem) as caught:
        list(read_workbook_rows(many, max_rows=3))
    assert (caught.value.row, caught.value.code) == (5, "too_many_rows")
    assert len(list(read_workbook_rows(many, max_rows=4))) == 5
    wide = workbook([["name"], ["x"] * (COLUMNS_MAX + 1)])
    with pytest.raises(TableProblem) as caught:
        list(read_workbook_rows(wide))
    assert (caught.value.row, caught.value.code) == (2, "too_many_columns")


def test_a_small_file_that_unpacks_to_gigabytes_is_refused_before_it_is_read():
    """A zip bomb: every part's declared size is added up before a byte is unpacked."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", bytes(UNPACKED_MAX + 1))
    assert len(out.getvalue()) < UNPACKED_MAX // 500
    with pytest.raises(TableProblem) as caught:
        list(read_workbook_rows(out.getvalue()))
    assert (caught.value.row, caught.value.code) == (1, "unreadable_workbook")


@pytest.mark.parametrize("data", [
    b"PK\x03\x04", b"PK\x03\x04" + bytes(100),
    workbook([["name"]])[:300],  # cut short in the middle
])
def test_a_damaged_workbook_is_unreadable_not_a_traceback(data):
    with pytest.raises(TableProblem) as caught:
        list(read_workbook_rows(data))
    assert caught.value.code == "unreadable_workbook"


def test_another_zip_than_a_workbook_is_unreadable():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(TableProblem) as caught:
        list(read_workbook_rows(out.getvalue()))
    assert caught.value.code == "unreadable_workbook"
