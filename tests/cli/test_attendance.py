"""`cohort attendance ...`: names, exit codes, JSON shape, and the demo's recorded attendance."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from cohort import db, services
from cohort.demo import demo_start, load_demo
from cohort.models import Attendance, Delivery, Meeting
from tests.fixtures.attendance import PEOPLE
from tests.fixtures.paths import FIXTURES, PROGRAMMES


def invoke(runner, *args):
    return runner.invoke(args=["cohort", *map(str, args)])


@pytest.fixture
def cohort_id(app, make_cohort) -> int:
    return make_cohort(app.extensions["cohort.engine"], people=PEOPLE, now=None).id


def test_import_dry_run_then_apply_and_show(runner, cohort_id):
    report = FIXTURES / "teams_webinar-1_sectioned_utf16.csv"
    dry = invoke(runner, "attendance", "import", cohort_id, "webinar-1", report, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "sectioned report, 9 attendee(s); present from 60 min of 120" in dry.output
    assert "Would record: 3 present, 2 absent" in dry.output
    assert ("To confirm (line 15): 'Åse Håland (Guest)' may be Åse Håland "
            "<ase.haland@bergen.kommune.example>") in dry.output
    assert "Unmatched (line 19): Peter Nielsen <peter.nielsen@konsulent.example>" in dry.output
    assert "Unmatched (line 20): iPhone" in dry.output
    nothing = json.loads(invoke(runner, "attendance", cohort_id, "--json").output)
    assert not any(m["recorded"] for m in nothing["meetings"])

    applied = invoke(runner, "attendance", "import", cohort_id, "webinar-1", report,
                     "--confirm-names", "--min-percent", "50")
    assert applied.exit_code == 0, applied.output
    assert "Recorded: 5 present, 2 absent" in applied.output

    shown = invoke(runner, "attendance", cohort_id, "--json", "--min-group", "5")
    data = json.loads(shown.output)
    assert set(data) == {"cohort", "min_group", "meetings", "participants", "follow_up",
                         "distribution", "distribution_base"}
    webinar = next(m for m in data["meetings"] if m["key"] == "webinar-1")
    assert {k: webinar[k] for k in ("present", "absent", "excused", "unmarked", "rate",
                                    "suppressed")} == dict(
        present=5, absent=2, excused=0, unmarked=0, rate=round(5 / 7, 4), suppressed=False)
    mette = next(p for p in data["participants"] if p["name"] == "Mette Bæk Sørensen")
    assert mette["missed"] == ["webinar-1"] and mette["marks"]["webinar-1"] == "absent"
    assert mette["marks"]["kickoff"] is None
    text = invoke(runner, "attendance", "show", cohort_id)
    assert "webinar-1    present   5  absent   2" in text.output


def test_import_errors_exit_1_and_save_nothing(runner, cohort_id, tmp_path):
    broken = tmp_path / "broken.csv"
    text = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes().decode("utf-16")
    broken.write_bytes(text.replace("1h 58m 21s", "næsten to timer").encode("utf-16"))
    result = invoke(runner, "attendance", "import", cohort_id, "webinar-1", broken)
    assert result.exit_code == 1
    assert (f"Error: {broken}: line 12, column In-Meeting Duration: 'næsten to timer' is not "
            "a duration") in result.output
    assert "nothing was imported" in result.output
    other_day = invoke(runner, "attendance", "import", cohort_id, "webinar-2",
                       FIXTURES / "teams_webinar-1_sectioned_utf16.csv")
    assert other_day.exit_code == 1 and "is it the right file?" in other_day.output
    for args, message in [
        (("import", cohort_id, "webinar-9", FIXTURES / "teams_kickoff_flat_utf8.csv"),
         "has no meeting 'webinar-9'"),
        (("import", 999, "kickoff", FIXTURES / "teams_kickoff_flat_utf8.csv"), "no cohort 999"),
        (("show", 999), "no cohort 999"),
        (("mark", cohort_id, "kickoff", "present", "nobody@x.example"), "not in cohort"),
    ]:
        failed = invoke(runner, "attendance", *args)
        assert failed.exit_code == 1 and message in failed.output, failed.output
    data = json.loads(invoke(runner, "attendance", cohort_id, "--json").output)
    assert not any(m["recorded"] for m in data["meetings"])


def test_mark_code_and_export(runner, cohort_id, tmp_path):
    marked = invoke(runner, "attendance", "mark", cohort_id, "kickoff", "excused",
                    "LARS.JENSEN@vejle-kommune.example", "--note", "syg")
    assert marked.exit_code == 0 and "1 mark(s) changed" in marked.output
    invoke(runner, "attendance", "mark", cohort_id, "kickoff", "present",
           "anne.aerenlund@vejle-kommune.example", "hanne.dahl@svendborg-kommune.example")
    code = invoke(runner, "attendance", "code", cohort_id, "workshop-1").output.strip()
    assert len(code) == 7 and code[3] == "-"
    assert invoke(runner, "attendance", "code", cohort_id, "workshop-1").output.strip() == code
    assert invoke(runner, "attendance", "code", cohort_id, "workshop-1", "--renew") \
        .output.strip() != code

    out_csv, out_xlsx = tmp_path / "a.csv", tmp_path / "a.xlsx"
    assert invoke(runner, "attendance", "export", cohort_id, "-o", out_csv).exit_code == 0
    rows = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig")),
                           delimiter=";"))
    assert rows[0][:5] == ["name", "email", "organisation", "kickoff", "workshop-1"]
    assert rows[4][:4] == ["Lars Jensen", "lars.jensen@vejle-kommune.example", "Vejle Kommune",
                           "excused"]
    assert invoke(runner, "attendance", "export", cohort_id, "-o", out_xlsx).exit_code == 0
    sheet = load_workbook(out_xlsx)["Attendance"]
    assert sheet["D1"].value == "kickoff" and sheet.max_row == 8
    bad = invoke(runner, "attendance", "export", cohort_id, "-o", tmp_path / "a.pdf")
    assert bad.exit_code == 1 and "must end in .csv or .xlsx" in bad.output
    cleared = invoke(runner, "attendance", "mark", cohort_id, "kickoff", "clear",
                     "lars.jensen@vejle-kommune.example")
    assert cleared.exit_code == 0 and "1 mark(s) changed" in cleared.output


def test_demo_starts_in_the_past_on_a_tuesday():
    for today in (date(2026, 11, 21), date(2025, 5, 27), date(2025, 1, 1)):
        start = demo_start(today)
        assert start.weekday() == 1 and 42 <= (today - start).days <= 48


def test_demo_records_attendance_for_past_meetings_only(engine):
    now = datetime(2025, 5, 27, 10, 0, tzinfo=UTC)
    cohort_id = load_demo(engine, PROGRAMMES, now=now).running
    assert load_demo(engine, PROGRAMMES, now=now) is None
    with db.transaction(engine) as session:
        data = services.attendance_as_dict(session, cohort_id)
        past = [m.key for m in session.scalars(select(Meeting).where(
            Meeting.cohort_id == cohort_id, Meeting.ends_at <= now).order_by(Meeting.starts_at))]
        sources = set(session.scalars(select(Attendance.source).where(
            Attendance.cohort_id == cohort_id)))
        overdue = session.scalars(select(Delivery).where(
            Delivery.state == "pending", Delivery.send_at <= now)).all()
        catch_ups = session.scalars(select(Delivery).where(
            Delivery.kind == "catch_up", Delivery.cohort_id == cohort_id)).all()
    assert past == ["kickoff", "workshop-1", "webinar-1"]
    recorded = [m["key"] for m in data["meetings"] if m["recorded"]]
    assert recorded == past
    assert all(m["unmarked"] == 0 for m in data["meetings"] if m["recorded"])
    assert all(0.7 < m["rate"] < 1 for m in data["meetings"] if m["recorded"])
    assert data["follow_up"] and data["distribution"] is not None
    assert sources == {"facilitator", "check_in"}
    assert overdue == []  # the course has been running: its past emails count as sent
    # each meeting recorded as it ended: its absences queued catch-ups, which have gone out
    webinar_1 = next(m for m in data["meetings"] if m["key"] == "webinar-1")
    after_webinar_1 = [d for d in catch_ups if d.anchor == "catch-up:webinar-1"]
    assert len(after_webinar_1) == webinar_1["absent"] + webinar_1["excused"] > 0
    assert all(d.state == "sent" and d.send_at <= now for d in catch_ups)

