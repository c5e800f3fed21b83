"""The evaluation commands: paper answers in; responses, rates and quotes out."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import AnonymousResponse, Invitation, Quote

PEOPLE = [ParticipantRow(f"Leder {i}", f"leder{i}@example.org", f"Kommune {i % 2}", "leder", "da")
          for i in range(8)]
FINAL_ROWS = ("new-tools;network;most-useful;recommend;change-next-time\n"
              + "5;4;1|2;9;Mere tid til cases\n" * 5 + "2;Helt uenig;;3;\n")
ANSWERS = {"new-tools": 5, "network": 4, "passed-on": 4, "staff-engagement": 3,
           "judge-technology": 4, "language": 5, "most-useful": [1, 3], "recommend": 9}


def invoke(runner, *args):
    return runner.invoke(args=["cohort", *args], catch_exceptions=False)


@pytest.fixture
def cohort_id(app, make_cohort) -> int:
    return make_cohort(app.extensions["cohort.engine"], people=PEOPLE, now=None).id


def test_import_then_export_csv_and_xlsx(runner, cohort_id, tmp_path):
    answers = tmp_path / "final.csv"
    answers.write_text(FINAL_ROWS, encoding="utf-8")
    imported = invoke(runner, "responses", "import", str(cohort_id), "final", str(answers))
    assert imported.exit_code == 0, imported.output
    assert f"Imported 6 response(s) into survey 'final' of cohort {cohort_id}." in imported.output
    out_csv = tmp_path / "final-out.csv"
    exported = invoke(runner, "responses", "export", str(cohort_id), "final", "-o", str(out_csv))
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig")),
                               delimiter=";"))
    assert len(rows) == 6 and {r["source"] for r in rows} == {"paper"}
    assert {r["name"] for r in rows} == {""} and {r["email"] for r in rows} == {""}
    assert sorted(r["network"] for r in rows) == ["1", "4", "4", "4", "4", "4"]
    out_xlsx = tmp_path / "all.xlsx"
    assert invoke(runner, "responses", "export", str(cohort_id), "-o",
                  str(out_xlsx)).exit_code == 0
    book = load_workbook(out_xlsx)
    assert book.sheetnames == ["Responses", "Response rates", "Quotes"]
    header = [c.value for c in book["Responses"][1]]
    assert header[:4] == ["survey", "meeting", "mode", "response"]
    assert "competences.judge-technology" in header and "new-tools" in header
    assert book["Responses"].max_row == 7
    summary = invoke(runner, "responses", "summary", str(cohort_id), "final")
    assert "new-tools: 5 af 6 (83 %) anvendte nye værktøjer og metoder" in summary.output
    assert "passed-on: fewer than 5 answers" in summary.output


def test_bad_paper_answers_are_reported_by_row_and_column(runner, cohort_id, tmp_path, app):
    answers = tmp_path / "bad.csv"
    answers.write_text("new-tools;recommend\n5;9\n7;ti\n", encoding="utf-8")
    result = runner.invoke(args=["cohort", "responses", "import", str(cohort_id), "final",
                                 str(answers)])
    assert result.exit_code == 1
    assert f"{answers}: row 3, column new-tools: '7' is not one of the choices" in result.output
    assert f"{answers}: row 3, column recommend: 'ti' is not one of the choices" in result.output
    assert f"2 problem(s) in {answers}; nothing was imported" in result.output
    with db.transaction(app.extensions["cohort.engine"]) as session:
        assert session.scalar(select(func.count()).select_from(AnonymousResponse)) == 0


def test_template_lists_the_columns_to_fill_in(runner, cohort_id, tmp_path):
    path = tmp_path / "pre.csv"
    assert invoke(runner, "responses", "template", str(cohort_id), "self-assessment-pre", "-o",
                  str(path)).exit_code == 0
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert header[:3] == ["email", "submitted_on", "competences.judge-technology"]
    assert header[-2:] == ["prior-training", "hopes"]


def test_rates_list_non_responders_of_identified_surveys(runner, cohort_id, tmp_path):
    answers = tmp_path / "pre.csv"
    # The survey has closed, so a paper batch must hold at least k (5) answers.
    answers.write_text("email;competences.strategy\n" + "".join(
        f"leder{i}@example.org;3\n" for i in range(1, 6)), encoding="utf-8")
    assert invoke(runner, "responses", "import", str(cohort_id), "self-assessment-pre",
                  str(answers)).exit_code == 0
    rates = invoke(runner, "responses", "rates", str(cohort_id))
    lines = {line.split("\t")[0]: line for line in rates.output.splitlines()}
    assert lines["self-assessment-pre"].startswith("self-assessment-pre\t5/8\t63%\tnot answered:")
    assert "Leder 1," not in lines["self-assessment-pre"] and "Leder 0" in lines[
        "self-assessment-pre"]
    assert lines["final"] == "final\t0/8\t0%"
    out = tmp_path / "rates.xlsx"
    assert invoke(runner, "responses", "rates", str(cohort_id), "-o", str(out)).exit_code == 0
    assert load_workbook(out).sheetnames == ["Response rates"]


def test_quotes_export(runner, cohort_id, tmp_path, app):
    """Attributions as the report publishes them: "Kommune 0" has 4 of the 8 participants,
    fewer than the minimum group size, so a quote stored with it is exported without it."""
    with db.transaction(app.extensions["cohort.engine"]) as session:
        services.add_quote(session, cohort_id, "Det har givet et fælles sprog.",
                           themes=["Sprog"])
        session.add(Quote(cohort_id=cohort_id, text="Gemt før reglen.",
                          organisation="Kommune 0"))
    out = tmp_path / "quotes.csv"
    assert invoke(runner, "quotes", "export", str(cohort_id), "-o", str(out)).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [row[:4] for row in rows[1:]] == [["Det har givet et fælles sprog.", "", "", ""],
                                             ["Gemt før reglen.", "", "", ""]]


@pytest.mark.parametrize("args, message", [
    (["responses", "export", "{id}", "finale", "-o", "{tmp}/x.csv"], "has no survey 'finale'"),
    (["responses", "export", "{id}", "-o", "{tmp}/x.txt"], "must end in .csv or .xlsx"),
    (["responses", "export", "999", "-o", "{tmp}/x.csv"], "no cohort 999"),
    (["responses", "import", "{id}", "nope", "{tmp}/final.csv"], "has no survey 'nope'"),
    (["quotes", "export", "999", "-o", "{tmp}/q.csv"], "no cohort 999"),
])
def test_bad_arguments_give_a_clear_error(runner, cohort_id, tmp_path, args, message):
    (tmp_path / "final.csv").write_text(FINAL_ROWS, encoding="utf-8")  # a file that exists
    filled = [a.format(id=cohort_id, tmp=tmp_path) for a in args]
    result = runner.invoke(args=["cohort", *filled])
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output


def test_store_pooled_stores_the_waiting_answers_of_a_closed_survey(runner, cohort_id, app):
    engine = app.extensions["cohort.engine"]
    with db.transaction(engine) as session:
        final = services.get_survey(session, cohort_id, "final")
        invitations = session.scalars(select(Invitation.id)
                                      .where(Invitation.survey_id == final.id)).all()
    for invitation in invitations[:2]:
        services.submit_response(engine, invitation, ANSWERS, final.opens_at)
    stored = select(func.count()).select_from(AnonymousResponse)
    with db.transaction(engine) as session:
        assert session.scalar(stored) == 0  # two wait: fewer than k, and the survey was open
    result = invoke(runner, "responses", "store-pooled")  # now: the 2025 survey has closed
    assert result.exit_code == 0 and "Stored 2 pooled anonymous answer(s)." in result.output
    with db.transaction(engine) as session:
        assert session.scalar(stored) == 2
    assert "Stored 0 pooled" in invoke(runner, "responses", "store-pooled").output


def test_summary_of_an_open_survey_says_once_when_its_figures_are_shown(
        runner, cohort_id, tmp_path, app):
    answers = tmp_path / "final.csv"
    answers.write_text(FINAL_ROWS, encoding="utf-8")
    assert invoke(runner, "responses", "import", str(cohort_id), "final",
                  str(answers)).exit_code == 0
    closes = datetime(2099, 6, 19, 13, 30, tzinfo=UTC)  # 15:30 in Copenhagen (summer time)
    with db.transaction(app.extensions["cohort.engine"]) as session:
        final = services.get_survey(session, cohort_id, "final")
        final.opens_at, final.closes_at = datetime(2020, 1, 1, tzinfo=UTC), closes
    summary = invoke(runner, "responses", "summary", str(cohort_id), "final")
    assert summary.exit_code == 0, summary.output
    assert "fewer than" not in summary.output  # rule 5 withholds them, not a small group
    assert summary.output.count("The figures are shown when the survey closes") == 1
    assert "Fri 19 Jun 2099 15:30, Europe/Copenhagen" in summary.output
