"""`cohort report`: the PDF with progress on stderr, --lang, --compare, clear errors."""

from __future__ import annotations

import pytest

from tests.fixtures.report import PEOPLE, STATEMENTS


def invoke(runner, *args):
    return runner.invoke(args=["cohort", "report", *args], catch_exceptions=False)


def test_report_writes_a_pdf_with_progress(runner, known_cohort, tmp_path):
    out = tmp_path / "rapport.pdf"
    result = invoke(runner, str(known_cohort), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    steps = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] + "]" for line in steps] == [f"[{i}/5]" for i in range(1, 6)]
    assert "laying out the pages" in result.stderr
    assert f"Wrote {out} (" in result.stdout and "pages" in result.stdout
    assert not list(tmp_path.glob(".*part"))


def test_report_as_html_in_another_language_and_compared(runner, engine, known_cohort,
                                                         make_cohort, tmp_path):
    out = tmp_path / "report.html"
    result = invoke(runner, str(known_cohort), "-o", str(out), "--lang", "nb")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Atferd (nivå 3)" in html and STATEMENTS["new-tools"] in html
    other = make_cohort(engine, people=PEOPLE, title="Hold 2").id
    result = invoke(runner, str(known_cohort), "-o", str(out), "--compare", str(other))
    assert result.exit_code == 0, result.output
    assert "Sammenligning af to hold" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["999", "-o", "{tmp}/r.pdf"], "no cohort 999"),
    (["{cohort}", "-o", "{tmp}/r.docx"], "the report is written as .pdf (or .html)"),
    (["{cohort}", "-o", "{tmp}/missing/r.pdf"], "is not a folder"),
    (["{cohort}", "-o", "{tmp}/r.pdf", "--compare", "{other}"],
     "only cohorts of the same programme can be compared"),
])
def test_report_errors_are_clear(runner, engine, known_cohort, make_cohort, tmp_path, args,
                                 message):
    other = make_cohort(engine, people=PEOPLE, programme="digital-helsekompetanse",
                        title="Kull 1").id
    filled = [a.format(tmp=tmp_path, cohort=known_cohort, other=other) for a in args]
    result = invoke(runner, *filled)
    assert result.exit_code == 1
    assert "Error: " in result.stderr and message in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "r.pdf").exists()


def test_unknown_language_is_refused_by_the_option(runner, known_cohort, tmp_path):
    result = runner.invoke(args=["cohort", "report", str(known_cohort), "-o",
                                 str(tmp_path / "r.pdf"), "--lang", "sv"])
    assert result.exit_code == 2 and "'sv' is not one of" in result.output
