"""Exports: responses without identifiers for anonymous surveys, response rates, quotes."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from cohort import db, services
from cohort.core.spreadsheets import Table, to_csv, to_xlsx
from tests.fixtures.surveys import (
    DURING_FINAL,
    DURING_PRE,
    FINAL_ANSWERS,
    PEOPLE,
    PRE_ANSWERS,
    close_final,
    submit,
)


@pytest.fixture
def cohort_id(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE).id


def answer_some(engine, cohort_id, finals=6, pres=2):
    for person in PEOPLE[:finals]:
        submit(engine, cohort_id, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)  # the survey has closed: the answers still pooled are stored
    for person in PEOPLE[:pres]:
        submit(engine, cohort_id, "self-assessment-pre", person.email, PRE_ANSWERS, DURING_PRE)


def test_anonymous_responses_export_without_identifiers(engine, cohort_id):
    answer_some(engine, cohort_id)
    with db.transaction(engine) as session:
        table, warnings = services.responses_table(session, cohort_id, "final")
    assert warnings == []
    assert table.columns[:10] == ["survey", "meeting", "mode", "response", "submitted_on",
                                  "source", "name", "email", "organisation", "role"]
    assert table.columns[10:] == ["new-tools", "network", "passed-on", "staff-engagement",
                                  "judge-technology", "language", "most-useful", "recommend",
                                  "leadership-change", "change-next-time"]
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    assert len(rows) == 6
    assert all(r["name"] is None and r["email"] is None and r["role"] is None for r in rows)
    assert {r["organisation"] for r in rows} == {"Vejle Kommune"}  # kept: 6 invited there
    assert rows[0]["most-useful"] == ("Webinarerne | Arbejdet med min case i praksis")
    assert rows[0]["new-tools"] == 5
    assert [r["response"] for r in rows] == sorted(r["response"] for r in rows)


def test_small_anonymous_surveys_are_left_out_with_a_warning(engine, cohort_id):
    answer_some(engine, cohort_id, finals=3)
    with db.transaction(engine) as session:
        table, warnings = services.responses_table(session, cohort_id)
    assert warnings == ["final: only 3 answer(s), fewer than 5; left out to protect anonymity"]
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    assert {r["survey"] for r in rows} == {"self-assessment-pre"}
    assert {r["name"] for r in rows} == {PEOPLE[0].name, PEOPLE[1].name}
    assert rows[0]["competences.strategy"] == 2 and rows[0]["prior-training"] == "Nej"


def test_response_rates_and_quotes_tables(engine, cohort_id):
    answer_some(engine, cohort_id, finals=5, pres=1)
    with db.transaction(engine) as session:
        services.add_quote(session, cohort_id, "=cmd|' /C calc'!A0",
                           organisation="Vejle Kommune", themes=["Tid og ressourcer"])
        rates = services.response_rates_table(session, cohort_id)
        quotes = services.quotes_table(session, cohort_id)
    by_survey = {row[0]: dict(zip(rates.columns, row, strict=True)) for row in rates.rows}
    assert by_survey["final"]["rate_percent"] == 42  # 5 of 12, rounded half up
    assert by_survey["final"]["not_answered"] is None
    assert by_survey["self-assessment-pre"]["not_answered"].count(";") == 10
    assert quotes.rows == [["=cmd|' /C calc'!A0", "Vejle Kommune", "Vejle Kommune", "",
                            "Tid og ressourcer", None, None, None, None]]
    text = to_csv(quotes).decode("utf-8")
    assert text.startswith('\ufeff"quote";"attribution";')
    assert list(csv.reader(io.StringIO(text[1:]), delimiter=";"))[1][0] == (
        "'=cmd|' /C calc'!A0")  # not a formula in Excel
    book = load_workbook(io.BytesIO(to_xlsx([rates, quotes])))
    assert book.sheetnames == ["Response rates", "Quotes"]
    cell = book["Quotes"]["A2"]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"
    assert [c.value for c in book["Response rates"][1]] == rates.columns


def test_sheet_titles_are_made_valid_and_unique():
    book = load_workbook(io.BytesIO(to_xlsx([Table("a/b:c?" * 10, ["x"]),
                                             Table("a/b:c?" * 10, ["x"])])))
    assert len(book.sheetnames) == 2 and all(len(n) <= 31 for n in book.sheetnames)
    assert not any(c in "".join(book.sheetnames) for c in "/:?")
