"""CSV and XLSX exports: no cell becomes a formula, every cell stays in its column."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from cohort.core.spreadsheets import Table, to_csv, to_xlsx

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(A1)",
            "\t=1+1", "\r=1+1"]


def test_csv_neutralises_formulas_and_quotes_text():
    table = Table("t", ["=title", "n"], [[f, 1] for f in FORMULAS]
                  + [["Vejle, Kommune", 2.5], ["a;b\r\nc", -3], [None, 0], [date(2025, 4, 8), 4]])
    raw = to_csv(table).decode("utf-8")
    assert raw.startswith("\ufeff")
    assert '"Vejle, Kommune";2.5\r\n' in raw  # a comma is quoted, a number is not
    rows = list(csv.reader(io.StringIO(raw[1:]), delimiter=";"))
    assert rows[0] == ["'=title", "n"]
    assert [r[0] for r in rows[1:7]] == ["'" + f for f in FORMULAS]
    # Read with the wrong separator (English Excel guesses commas) a cell stays whole.
    assert list(csv.reader(io.StringIO(raw[1:])))[7] == ["Vejle, Kommune;2.5"]
    assert rows[7:] == [["Vejle, Kommune", "2.5"], ["a;b\r\nc", "-3"], ["", "0"],
                        ["2025-04-08", "4"]]


def test_xlsx_stores_formulas_as_text():
    book = load_workbook(io.BytesIO(to_xlsx([Table("t", ["=title"], [[f] for f in FORMULAS])])))
    cells = [row[0] for row in book["t"].iter_rows()]
    # (XML keeps no lone CR: it comes back as LF)
    assert [c.value for c in cells] == ["=title", *[f.replace("\r", "\n") for f in FORMULAS]]
    assert {c.data_type for c in cells} == {"s"}
