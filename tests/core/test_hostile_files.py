"""Nasty files for every importer: a located, clear error or a correct parse, never a traceback.

One set of hostile files (byte-order marks, CR-only / LF / CRLF line ends, NUL bytes, a cell
of 20 KiB and of 200 KiB (past the csv module's own limit), formula cells, latin-1 and UTF-16,
empty files, a header alone, a column twice, 10,000 columns), built per importer from a good
file of its kind, and what each importer must answer: the rows it reads, or the line (and
column) and code of its error. Any other exception fails the test.
"""

from __future__ import annotations

import codecs
from datetime import date

import pytest

from cohort.core.participants import ParticipantImportError, parse_participant_list
from cohort.core.programme import ProgrammeError, parse_programme
from cohort.core.response_import import ResponseImportError, parse_responses_csv
from cohort.core.surveys import survey_spec
from cohort.core.teams_attendance import TeamsReportError, parse_teams_report
from cohort.core.textfiles import CELL_MAX, COLUMNS_MAX
from tests.fixtures.programmes import VALID, WITH_QUESTIONS

HUGE = "x" * (200 * 1024)  # beyond the csv module's 128 KiB field limit
LONG = "x" * (CELL_MAX + 1)
FORMULA = '=HYPERLINK("http://evil.example","Klik")'


def hostile(header: str, row: str, other: str, sep: str, name: str) -> dict[str, bytes]:
    """The hostile variants of a file `header` + `row` + `other` (LF line ends) whose first
    data cell (line 2) is `name`."""
    good = f"{header}\n{row}\n{other}\n"
    many = sep.join(f"c{i}" for i in range(10_000))
    return {
        "lf": good.encode(),
        "crlf": good.replace("\n", "\r\n").encode(),
        "cr-only": good.replace("\n", "\r").encode(),
        "bom": codecs.BOM_UTF8 + good.encode(),
        "bom-crlf": codecs.BOM_UTF8 + good.replace("\n", "\r\n").encode(),
        "utf-16": good.encode("utf-16"),
        "latin-1": good.replace(name, name + "ø").encode("latin-1"),
        "nul": good.replace(name, name[:2] + "\x00" + name[2:], 1).encode(),
        "long-cell": good.replace(name, LONG, 1).encode(),
        "huge-cell": good.replace(name, HUGE, 1).encode(),
        "huge-cell-cr-only": good.replace(name, HUGE, 1).replace("\n", "\r").encode(),
        "formula": good.replace(name, FORMULA, 1).encode(),
        "empty": b"",
        "only-blank-lines": b"\r\n\r\n",
        "only-header": f"{header}\n".encode(),
        "10k-columns": f"{many}\n{row}\n".encode(),
        "10k-columns-row": f"{header}\n{row}{sep}{many}\n".encode(),
    }


# --- participants ---------------------------------------------------------------------------

PEOPLE = hostile("name;email;organisation", "Anne Hansen;anne@x.dk;Vejle",
                 "Bo Berg;bo@x.dk;Odense", ";", "Anne Hansen")
PEOPLE["duplicate-header"] = b"name;email;e-mail\nAnne;anne@x.dk;anne@y.dk\n"
PEOPLE["utf-16-no-bom"] = "name;email\nAnne;anne@x.dk\n".encode("utf-16-le")
PEOPLE["unclosed-quote"] = b'name;email\n"Anne;anne@x.dk\nBo;bo@x.dk\n'

# What each file gives: the names read, or (line, column, code) of the first error.
PEOPLE_EXPECTED = {
    "lf": ["Anne Hansen", "Bo Berg"],
    "crlf": ["Anne Hansen", "Bo Berg"],
    "cr-only": ["Anne Hansen", "Bo Berg"],
    "bom": ["Anne Hansen", "Bo Berg"],
    "bom-crlf": ["Anne Hansen", "Bo Berg"],
    "utf-16": ["Anne Hansen", "Bo Berg"],
    "latin-1": (2, "-", "not_utf8"),
    "nul": (2, "name", "nul"),
    "long-cell": (2, "name", "cell_too_long"),
    "huge-cell": (2, "name", "cell_too_long"),
    "huge-cell-cr-only": (2, "name", "cell_too_long"),
    "formula": [FORMULA, "Bo Berg"],  # text like any other; exports neutralise it
    "empty": (1, "name", "empty_file"),
    "only-blank-lines": (1, "name", "empty_file"),
    "only-header": [],
    "10k-columns": (1, "-", "too_many_columns"),
    "10k-columns-row": (2, "-", "too_many_columns"),
    "duplicate-header": (1, "email", "duplicate_column"),
    "utf-16-no-bom": (1, "1", "nul"),
    "unclosed-quote": (3, "name", "control_character"),  # the quote runs to the end
}


@pytest.mark.parametrize("case", sorted(PEOPLE))
def test_participant_files(case):
    expected = PEOPLE_EXPECTED[case]
    if isinstance(expected, list):
        assert [r.name for r in parse_participant_list(PEOPLE[case])] == expected
        return
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list(PEOPLE[case])
    error = caught.value.errors[0]
    assert (error.row, error.column, error.code) == expected, str(error)
    assert len(error.message) < 200  # a message, not the cell quoted back


def test_a_participant_file_over_the_row_limit_says_the_limit():
    data = "name;email\n" + "".join(f"P {i};p{i}@x.dk\n" for i in range(6))
    assert len(parse_participant_list(data, max_rows=6)) == 6
    with pytest.raises(ParticipantImportError) as caught:
        parse_participant_list(data, max_rows=5)
    (error,) = caught.value.errors
    assert (error.row, error.code, error.params) == (7, "too_many_rows", (("max", 5),))
    assert "more than 5 rows" in error.message


def test_blank_rows_do_not_count_towards_the_limit():
    data = "name;email\n\n\n" + "".join(f"P {i};p{i}@x.dk\n;\n" for i in range(3))
    assert len(parse_participant_list(data, max_rows=3)) == 3


# --- Teams attendance reports ---------------------------------------------------------------

TEAMS_HEADER = "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail"
TEAMS = hostile(TEAMS_HEADER, "Anne Hansen\t8/5/25, 13:00:00\t8/5/25, 14:00:00\t1h\tanne@x.dk",
                "Bo Berg\t8/5/25, 13:10:00\t8/5/25, 13:40:00\t30m\tbo@x.dk", "\t",
                "Anne Hansen")
TEAMS["huge-duration"] = TEAMS["lf"].replace(b"\t1h\t", b"\t99999999999999999999h\t")
TEAMS["huge-clock-duration"] = TEAMS["lf"].replace(b"\t1h\t", b"\t99999999999:00:00\t")
TEAMS["huge-summary-duration"] = (
    b"1. Summary\nMeeting duration\t99999999999999h 1m\n2. Participants\n" + TEAMS["lf"])
TEAMS["duplicate-header"] = TEAMS["lf"].replace(b"\tEmail", b"\tEmail\tEmail")
TEAMS["unclosed-quote"] = TEAMS["lf"].replace(b"Anne Hansen", b'"Anne Hansen')

TEAMS_EXPECTED = {
    "lf": ["Anne Hansen", "Bo Berg"],
    "crlf": ["Anne Hansen", "Bo Berg"],
    "cr-only": ["Anne Hansen", "Bo Berg"],
    "bom": ["Anne Hansen", "Bo Berg"],
    "bom-crlf": ["Anne Hansen", "Bo Berg"],
    "utf-16": ["Anne Hansen", "Bo Berg"],
    "latin-1": ["Anne Hansenø", "Bo Berg"],  # Teams files from old Windows tools: cp1252
    "nul": (2, "Name", "nul"),
    "long-cell": (2, "Name", "cell_too_long"),
    "huge-cell": (2, "Name", "cell_too_long"),
    "huge-cell-cr-only": (2, "Name", "cell_too_long"),
    "formula": [FORMULA, "Bo Berg"],
    "empty": (None, "", "empty_file"),
    "only-blank-lines": (None, "", "empty_file"),
    "only-header": [],
    "10k-columns": (1, "", "too_many_columns"),
    "10k-columns-row": (2, "", "too_many_columns"),
    "huge-duration": (2, "In-Meeting Duration", "duration_too_long"),
    "huge-clock-duration": (2, "In-Meeting Duration", "duration_too_long"),
    "huge-summary-duration": (2, "Meeting duration", "duration_too_long"),
    "duplicate-header": ["Anne Hansen", "Bo Berg"],  # the first Email column counts
    "unclosed-quote": (2, "", "participant_row_expected"),  # one line, one row: one cell
}


@pytest.mark.parametrize("case", sorted(TEAMS))
def test_teams_files(case):
    expected = TEAMS_EXPECTED[case]
    if isinstance(expected, list):
        report = parse_teams_report(TEAMS[case], near=None)
        assert [a.name for a in report.attendees] == expected
        return
    with pytest.raises(TeamsReportError) as caught:
        parse_teams_report(TEAMS[case])
    error = caught.value
    assert (error.line, error.column, error.code) == expected, str(error)
    assert len(str(error)) < 300


def test_a_huge_duration_says_what_is_wrong():
    with pytest.raises(TeamsReportError) as caught:
        parse_teams_report(TEAMS["huge-duration"])
    assert str(caught.value) == (
        "line 2, column In-Meeting Duration: the duration '99999999999999999999h' is longer "
        "than 30 hours, the longest a Teams meeting lasts")
    assert caught.value.params == (("max", 30),)


def test_a_long_meeting_within_the_bound_is_read():
    data = TEAMS["lf"].replace(b"\t1h\t", b"\t29h 59m\t")
    (anne, _) = parse_teams_report(data, timezone="Europe/Oslo").attendees
    assert anne.duration.total_seconds() == 29 * 3600 + 59 * 60


# --- paper answers --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec():
    return survey_spec(parse_programme(WITH_QUESTIONS, "x.yaml"), "evaluation")


# The survey is anonymous: no email column, so the first data cell is a typed-in comment.
ANSWERS = hostile("comments;relevant", "Godt møde;4", "Fint;5", ";", "Godt møde")
ANSWERS["duplicate-header"] = b"comments;relevant;relevant\nGodt;4;5\n"
ANSWERS["identifying-column"] = b"email;relevant\nanne@x.dk;4\n"
ANSWERS["unknown-answer"] = ANSWERS["lf"].replace(b";4", b";=1+1")

ANSWERS_EXPECTED = {
    "lf": ["Godt møde", "Fint"],
    "crlf": ["Godt møde", "Fint"],
    "cr-only": ["Godt møde", "Fint"],
    "bom": ["Godt møde", "Fint"],
    "bom-crlf": ["Godt møde", "Fint"],
    "utf-16": ["Godt møde", "Fint"],
    "latin-1": (2, "-", "not_utf8"),
    "nul": (2, "comments", "nul"),
    "long-cell": (2, "comments", "cell_too_long"),
    "huge-cell": (2, "comments", "cell_too_long"),
    "huge-cell-cr-only": (2, "comments", "cell_too_long"),
    "formula": [FORMULA, "Fint"],  # a comment like any other; exports neutralise it
    "empty": (1, "-", "empty_file"),
    "only-blank-lines": (1, "-", "empty_file"),
    "only-header": (2, "-", ""),  # "the file has no responses"
    "10k-columns": (1, "-", "too_many_columns"),
    "10k-columns-row": (2, "-", "too_many_columns"),
    "duplicate-header": (1, "relevant", ""),  # "this column appears twice"
    "identifying-column": (1, "email", ""),  # "this survey is anonymous: remove the column"
    "unknown-answer": (2, "relevant", ""),  # "'=1+1' is not one of the choices"
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_paper_answer_files(spec, case):
    expected = ANSWERS_EXPECTED[case]
    if isinstance(expected, list):
        parsed = parse_responses_csv(spec, ANSWERS[case], date(2025, 6, 1))
        assert [r.answers["comments"] for r in parsed] == expected
        return
    with pytest.raises(ResponseImportError) as caught:
        parse_responses_csv(spec, ANSWERS[case], date(2025, 6, 1))
    error = caught.value.errors[0]
    assert (error.row, error.column, error.code) == expected, str(error)
    assert len(error.message) < 300


# --- programme templates (YAML; the loader's own limits are in test_yamlsource.py) ----------

PROGRAMMES = {
    "lf": VALID,
    "crlf": VALID.replace("\n", "\r\n"),
    "cr-only": VALID.replace("\n", "\r"),
    "bom": "\ufeff" + VALID,
    "nul": VALID.replace("title: Mini", "title: Mi\x00ni"),
    "huge-cell": VALID.replace("title: Mini", f"title: {HUGE}"),
    "formula": VALID.replace("title: Mini", f"title: '{FORMULA}'"),
    "empty": "",
    "10k-keys": VALID + "".join(f"k{i}: {i}\n" for i in range(10_000)),
    "duplicate-key": VALID + "title: Again\n",
}
# The title read, or how the first error starts.
PROGRAMMES_EXPECTED = {
    "lf": "Mini", "crlf": "Mini", "cr-only": "Mini", "bom": "Mini", "formula": FORMULA,
    "huge-cell": HUGE,  # within the loader's size limit: a long title, read as written
    "nul": "x.yaml: YAML syntax error: unacceptable character #x0000",
    "empty": "x.yaml:1: a programme is a YAML mapping", "10k-keys": "x.yaml:",
    "duplicate-key": "x.yaml:25: title: duplicate key 'title'",
}


@pytest.mark.parametrize("case", sorted(PROGRAMMES))
def test_programme_files(case):
    expected = PROGRAMMES_EXPECTED[case]
    if not expected.startswith("x.yaml"):
        assert parse_programme(PROGRAMMES[case], "x.yaml").title == expected
        return
    with pytest.raises(ProgrammeError) as caught:
        parse_programme(PROGRAMMES[case], "x.yaml")
    assert str(caught.value.errors[0]).startswith(expected), str(caught.value.errors[0])
    assert len(str(caught.value.errors[0])) < 300


def test_every_case_has_an_answer():
    assert set(PEOPLE) == set(PEOPLE_EXPECTED)
    assert set(TEAMS) == set(TEAMS_EXPECTED)
    assert set(ANSWERS) == set(ANSWERS_EXPECTED)
    assert set(PROGRAMMES) == set(PROGRAMMES_EXPECTED)
    assert COLUMNS_MAX < 10_000
