"""The facilitator's attendance pages (Flask test client, SQLite and PostgreSQL): the one-page
list, the check-in code, importing a Teams report with its preview, the overview, exports."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from cohort import db, services
from cohort.core.attendance import ABSENT, EXCUSED, PRESENT, SOURCE_CHECK_IN, SOURCE_IMPORT
from cohort.models import CohortRole, CohortStaff
from tests.fixtures.attendance import AFTER_WEBINAR_1, PEOPLE
from tests.fixtures.paths import FIXTURES
from tests.fixtures.web import staff_client, visible_text

DURING_WEBINAR_1 = datetime(2025, 5, 15, 12, 0, tzinfo=UTC)  # 14:00 local, 13:00-15:00


@pytest.fixture
def course(web_app, engine_of_app, make_cohort, staff) -> int:
    """A digital-lederskab cohort (8 April 2025) owned by the fixture's owner; now is just
    after webinar 1."""
    cohort_id = make_cohort(engine_of_app, people=PEOPLE, title="Hold Teams").id
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=staff.owner.id,
                                role=CohortRole.OWNER))
    web_app.config["COHORT_NOW"] = AFTER_WEBINAR_1
    return cohort_id


@pytest.fixture
def client(web_app, staff):
    return staff_client(web_app, staff.owner, language="en", csrf=False)


def _rows(engine, cohort_id: int, meeting_key: str):
    with db.transaction(engine) as session:
        return services.meeting_sheet(session, cohort_id, meeting_key).rows


def _marks(engine, cohort_id: int, meeting_key: str) -> dict[str, tuple[str, str, str]]:
    return {r.participant.name.split()[0]: (r.attendance.state, r.attendance.note,
                                            r.attendance.source)
            for r in _rows(engine, cohort_id, meeting_key) if r.attendance}


def _sheet_form(engine, cohort_id: int, meeting_key: str, states: dict[str, str],
                notes: dict[str, str] | None = None, button: str = "save") -> dict[str, str]:
    """The list as the browser posts it: one row per participant, by first name."""
    notes = notes or {}
    data = {button: "1"}
    for index, row in enumerate(_rows(engine, cohort_id, meeting_key)):
        first = row.participant.name.split()[0]
        data[f"rows-{index}-participant_id"] = str(row.participant.id)
        data[f"rows-{index}-note"] = notes.get(first, "")
        if first in states:
            data[f"rows-{index}-state"] = states[first]
    return data


def test_one_post_marks_the_whole_list(client, course, engine_of_app):
    url = f"/cohorts/{course}/attendance/webinar-1"
    page = client.get(url)
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('type="radio"') == 3 * len(PEOPLE)
    # Two marked by hand, everyone else present with the shortcut.
    saved = client.post(url, data=_sheet_form(engine_of_app, course, "webinar-1",
                                              {"Anne": ABSENT, "Søren": EXCUSED},
                                              {"Søren": "Syg"}, button="rest_present"),
                        follow_redirects=True)
    assert "7 marks saved. 2 catch-up emails queued." in visible_text(saved)
    marks = _marks(engine_of_app, course, "webinar-1")
    assert marks["Anne"][0] == ABSENT and marks["Søren"][:2] == (EXCUSED, "Syg")
    assert {m[0] for name, m in marks.items() if name not in ("Anne", "Søren")} == {PRESENT}
    # Saving the list as shown changes nothing; correcting Anne cancels her catch-up.
    current = {name: m[0] for name, m in marks.items()}
    again = client.post(url, data=_sheet_form(engine_of_app, course, "webinar-1", current,
                                              {"Søren": "Syg"}), follow_redirects=True)
    assert "0 marks saved." in visible_text(again)
    corrected = client.post(url, data=_sheet_form(engine_of_app, course, "webinar-1",
                                                  {**current, "Anne": PRESENT}, {"Søren": "Syg"}),
                            follow_redirects=True)
    assert "1 mark saved. 1 catch-up email cancelled." in visible_text(corrected)


def test_saving_the_list_keeps_a_participants_own_check_in(client, course, engine_of_app):
    with db.transaction(engine_of_app) as session:
        anne = next(r.participant for r in services.meeting_sheet(session, course,
                                                                  "webinar-1").rows
                    if r.participant.name.startswith("Anne"))
        meeting = services.get_meeting(session, course, "webinar-1")
        services.check_in(session, anne.id, meeting.id, None, now=DURING_WEBINAR_1)
    page = visible_text(client.get(f"/cohorts/{course}/attendance/webinar-1"))
    assert "Checked in themselves" in page
    client.post(f"/cohorts/{course}/attendance/webinar-1",
                data=_sheet_form(engine_of_app, course, "webinar-1",
                                 {"Anne": PRESENT, "Lars": ABSENT}))
    marks = _marks(engine_of_app, course, "webinar-1")
    assert marks["Anne"] == (PRESENT, "", SOURCE_CHECK_IN)
    assert marks["Lars"][0] == ABSENT and len(marks) == 2


def test_before_the_meeting_only_excused_can_be_recorded(client, course, engine_of_app):
    url = f"/cohorts/{course}/attendance/webinar-2"
    assert "only “Excused” can be recorded now" in visible_text(client.get(url))
    refused = client.post(url, data=_sheet_form(engine_of_app, course, "webinar-2",
                                                {"Anne": PRESENT, "Lars": EXCUSED}))
    assert refused.status_code == 400 and "Nothing was saved" in visible_text(refused)
    assert _marks(engine_of_app, course, "webinar-2") == {}
    client.post(url, data=_sheet_form(engine_of_app, course, "webinar-2", {"Lars": EXCUSED},
                                      {"Lars": "Ferie"}))
    assert _marks(engine_of_app, course, "webinar-2") == {
        "Lars": (EXCUSED, "Ferie", "facilitator")}
    assert client.get(f"/cohorts/{course}/attendance/webinar-9").status_code == 404


def test_check_in_code_is_made_on_request_and_can_be_renewed(client, course, engine_of_app):
    url = f"/cohorts/{course}/attendance/workshop-1/code"
    assert 'value="Show a check-in code"' in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"make": "1"}).status_code == 302
    with db.transaction(engine_of_app) as session:
        first = services.check_in_code(session, course, "workshop-1")
    shown = client.get(url).get_data(as_text=True)
    assert f'<p class="check-in-code" aria-label="Check-in code">{first[:3]}-{first[3:]}</p>' \
        in shown
    renewed = client.post(url, data={"renew": "1"}, follow_redirects=True)
    assert "the old one no longer works" in visible_text(renewed)
    with db.transaction(engine_of_app) as session:
        second = services.check_in_code(session, course, "workshop-1")
    assert second != first and f"{second[:3]}-{second[3:]}" in visible_text(renewed)
    sheet = visible_text(client.get(f"/cohorts/{course}/attendance/workshop-1"))
    assert f"Check-in code: {second[:3]}-{second[3:]}" in sheet


def _hidden(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)[1])


def _line_of(page: str, pattern: str) -> str:
    """The report line of a row in the preview (checkbox value or select name)."""
    return re.search(pattern, page, re.S)[1]


def test_teams_report_preview_confirm_and_apply(client, course, engine_of_app):
    url = f"/cohorts/{course}/attendance/webinar-1/import"
    data = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes()
    preview = client.post(url, data={"file": (io.BytesIO(data), "webinar1.csv"),
                                     "min_percent": "50", "preview": "1"},
                          content_type="multipart/form-data")
    page, text = preview.get_data(as_text=True), visible_text(preview)
    assert preview.status_code == 200 and "Preview of the import: webinar1.csv" in text
    assert "“Åse Håland (Guest)” in the report is Åse Håland" in text
    assert "“Kråkenes, Bjørn” in the report is Bjørn Kråkenes" in text
    assert "iPhone" in text and "Peter Nielsen" in text  # unmatched rows are listed
    assert "25 of 120 min in the meeting" in text  # Mette: under the 50 % bar
    assert _marks(engine_of_app, course, "webinar-1") == {}  # a preview saves nothing
    # Confirm Åse, count the consultant's row for Lars, leave Bjørn unconfirmed; apply.
    ase = _line_of(page, r'value="(\d+)" id="confirm-\d+">\s*<label[^>]*>“Åse')
    peter = _line_of(page, r'Peter Nielsen.*?name="assign-(\d+)"')
    with db.transaction(engine_of_app) as session:
        lars = next(r.participant.id for r in services.meeting_sheet(
            session, course, "webinar-1").rows if r.participant.name == "Lars Jensen")
    step_two = {"payload": _hidden(page, "payload"), "filename": _hidden(page, "filename"),
                "min_percent": _hidden(page, "min_percent"), "confirmed": [ase],
                f"assign-{peter}": str(lars)}
    updated = visible_text(client.post(url, data={**step_two, "update": "1"}))
    assert "waiting for your confirmation" in updated  # Bjørn only
    assert _marks(engine_of_app, course, "webinar-1") == {}
    applied = client.post(url, data={**step_two, "apply": "1"}, follow_redirects=True)
    assert "6 marks recorded from the report." in visible_text(applied)
    marks = _marks(engine_of_app, course, "webinar-1")
    assert {name: m[0] for name, m in marks.items()} == {
        "Anne": PRESENT, "Søren": PRESENT, "Mette": ABSENT, "Åse": PRESENT, "Lars": PRESENT,
        "Hanne": PRESENT}
    assert {m[2] for m in marks.values()} == {SOURCE_IMPORT}
    assert "From the Teams report (88 min in the meeting)" in visible_text(applied)


def test_bad_report_files_are_refused_and_nothing_is_saved(client, course, engine_of_app):
    url = f"/cohorts/{course}/attendance/webinar-1/import"
    refused = client.post(url, data={"file": (io.BytesIO(b"Name;Score\nAnne;12\n"), "x.csv"),
                                     "min_percent": "50"}, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "The file could not be read" in visible_text(refused)
    good = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes()
    broken = good.decode("utf-16").replace("25m 12s", "lidt").encode("utf-16")
    refused = client.post(url, data={"file": (io.BytesIO(broken), "x.csv"),
                                     "min_percent": "50"}, content_type="multipart/form-data")
    assert refused.status_code == 400 and "line 14" in visible_text(refused)
    tampered = client.post(url, data={"payload": "not base64!", "apply": "1"})
    assert tampered.status_code == 400 and "upload it again" in visible_text(tampered)
    too_high = client.post(url, data={"file": (io.BytesIO(good), "x.csv"),
                                      "min_percent": "150"}, content_type="multipart/form-data")
    assert too_high.status_code == 400
    # The right file for the wrong meeting: the date differs, and saying so is required.
    other = f"/cohorts/{course}/attendance/kickoff/import"
    first = client.post(other, data={"file": (io.BytesIO(good), "x.csv"), "min_percent": "50"},
                        content_type="multipart/form-data")
    page = first.get_data(as_text=True)
    assert "is it the right file?" in visible_text(first)
    wrong = client.post(other, data={"payload": _hidden(page, "payload"), "apply": "1",
                                     "min_percent": "50"})
    assert wrong.status_code == 400 and "Nothing was saved" in visible_text(wrong)
    assert _marks(engine_of_app, course, "webinar-1") == {}
    assert _marks(engine_of_app, course, "kickoff") == {}


def test_overview_follow_up_and_exports(client, course, engine_of_app):
    for key in ("kickoff", "webinar-1"):
        client.post(f"/cohorts/{course}/attendance/{key}",
                    data=_sheet_form(engine_of_app, course, key, {"Lars": ABSENT},
                                     button="rest_present"))
    text = visible_text(client.get(f"/cohorts/{course}/attendance"))
    follow_up = text.split("Missed two meetings or more", 1)[1].split("Per participant")[0]
    assert "Lars Jensen (Vejle Kommune): Kick-off-webinar, Webinar 1" in follow_up
    assert "Anne" not in follow_up
    dashboard = visible_text(client.get(f"/cohorts/{course}"))
    assert "Missed two meetings or more: Lars Jensen" in dashboard
    response = client.get(f"/cohorts/{course}/attendance.csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:5] == ["name", "email", "organisation", "kickoff", "workshop-1"]
    lars = next(r for r in rows if r[0] == "Lars Jensen")
    assert lars[3] == ABSENT and lars[-1] == "2"
    book = load_workbook(io.BytesIO(client.get(f"/cohorts/{course}/attendance.xlsx").data))
    assert book.sheetnames == ["Attendance", "Meetings"]
    assert client.get(f"/cohorts/{course}/attendance.pdf").status_code == 404


def test_a_hostile_report_gets_a_located_answer_in_the_readers_language(client, course):
    url = f"/cohorts/{course}/attendance/webinar-1/import"
    good = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes().decode("utf-16")
    for text, english, danish in [
        (good.replace("25m 12s", "99999999999999999999h"),
         "line 14, column In-Meeting Duration: the duration is longer than 30 hours, the "
         "longest a Teams meeting lasts",
         "linje 14, kolonne In-Meeting Duration: varigheden er over 30 timer, og længere kan "
         "et Teams-møde ikke vare"),
        (good.replace("25m 12s", "25m\x0012s"),
         "line 14, column In-Meeting Duration: contains a NUL byte",
         "linje 14, kolonne In-Meeting Duration: indeholder en NUL-byte"),
        (good.replace("25m 12s", "x" * 140_000, 1).replace("\r\n", "\r"),  # > 128 KiB
         "line 14, column In-Meeting Duration: the cell is longer than 10000 characters",
         "linje 14, kolonne In-Meeting Duration: cellen er længere end 10000 tegn"),
    ]:
        for language, expected in (("en", english), ("da", danish)):
            refused = client.post(url, data={"file": (io.BytesIO(text.encode("utf-16")), "x.csv"),
                                             "min_percent": "50"},
                                  content_type="multipart/form-data",
                                  headers={"Accept-Language": language})
            assert refused.status_code == 400
            assert expected in visible_text(refused), visible_text(refused)[:2000]


def test_a_file_that_is_no_report_is_refused_in_the_readers_language(client, course):
    """An Excel workbook, a PDF, an empty file, another table, a nameless row: each said
    in Danish or Norwegian, not in the English the core words it in."""
    url = f"/cohorts/{course}/attendance/webinar-1/import"
    good = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes().decode("utf-16")
    nameless = good.replace("Hanne Dahl\t", "\t", 1).encode("utf-16")
    for data, danish, norwegian in [
        (b"PK\x03\x04rest-of-a-zip",
         "det er en Excel-projektmappe (.xlsx); hent deltagerrapporten i Teams som .csv",
         "dette er en Excel-arbeidsbok (.xlsx); last ned deltakerrapporten fra Teams som .csv"),
        (b"%PDF-1.7 ...", "det er en PDF; importér deltagerrapporten fra Teams som .csv",
         "dette er en PDF; importer deltakerrapporten fra Teams som .csv"),
        (b"\xef\xbb\xbf\r\n", "(filen er tom)", "(filen er tom)"),
        (b"navn;e-mail\nAnne;anne@x.example\n",
         "linje 1: det ligner ikke en deltagerrapport fra Teams: forventede »1. Summary«",
         "linje 1: dette ser ikke ut som en deltakerrapport fra Teams: forventet «1. Summary»"),
        (nameless, "navnet er tomt", "navnet er tomt"),
    ]:
        for language, expected in (("da", danish), ("nb", norwegian)):
            refused = client.post(url, data={"file": (io.BytesIO(data), "x.csv"),
                                             "min_percent": "50"},
                                  content_type="multipart/form-data",
                                  headers={"Accept-Language": language})
            assert refused.status_code == 400
            text = visible_text(refused)
            assert expected in text, text[:2000]
            assert "Excel workbook" not in text and "does not look like" not in text


def test_a_report_that_breaks_off_is_refused_in_the_readers_language(client, course):
    """A missing section or header, a stray row, an unknown action, an empty or unreadable
    time: each said in Danish or Norwegian with its line, not in the core's English."""
    url = f"/cohorts/{course}/attendance/webinar-1/import"
    good = (FIXTURES / "teams_webinar-1_sectioned_utf16.csv").read_bytes().decode("utf-16")
    header = "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole"
    flat = "Full Name\tUser Action\tTimestamp\n"
    for text, danish, norwegian in [
        (good.split("2. Participants")[0],
         "linje 1: rapporten har ingen deltagerafsnit: forventede en linje »2. Participants«",
         "linje 1: rapporten har ingen deltakerdel: forventet en linje «2. Participants»"),
        (good.split(header)[0],
         "linje 9: deltagerafsnittet er tomt: forventede kolonnerne Name, First Join",
         "linje 9: deltakerdelen er tom: forventet kolonnene Name, First Join"),
        (good.replace(header, "Foo\tBar\tBaz"),
         "linje 10: forventede deltagerkolonnerne Name, First Join",
         "linje 10: forventet deltakerkolonnene Name, First Join"),
        (good.replace("Karin Kursusleder\t", "Karin Kursusleder\n\t", 1),
         "linje 11: forventede en deltagerrække med kolonnerne fra linje 10",
         "linje 11: forventet en deltakerrad med kolonnene fra linje 10"),
        (good.replace("15/05/25, 13:04:00", "15/05/25 kl. 13"),
         "linje 14: tidspunktet for deltagelse »15/05/25 kl. 13« er ikke en dato og et "
         "klokkeslæt",
         "linje 14: tidspunktet for tilkobling «15/05/25 kl. 13» er ikke en dato og et "
         "klokkeslett"),
        (good.replace("15/05/25, 14:55:00", "kl. 15"),
         "linje 16: tidspunktet for afgang »kl. 15« er ikke en dato og et klokkeslæt",
         "linje 16: tidspunktet for frakobling «kl. 15» er ikke en dato og et klokkeslett"),
        (good.replace("15/05/25, 12:56:10", "snart", 1),
         "linje 4: starttidspunktet »snart« er ikke en dato og et klokkeslæt",
         "linje 4: starttidspunktet «snart» er ikke en dato og et klokkeslett"),
        (good.replace("15/05/25, 15:03:40", "sent", 1),
         "linje 5: sluttidspunktet »sent« er ikke en dato og et klokkeslæt",
         "linje 5: sluttidspunktet «sent» er ikke en dato og et klokkeslett"),
        (good.replace("15/05/25, 13:04:00", "35/15/25, 13:04:00"),
         "linje 14: »35/15/25, 13:04:00« er ikke en dato og et klokkeslæt",
         "linje 14: «35/15/25, 13:04:00» er ikke en dato og et klokkeslett"),
        (good.replace("25m 12s", "25 minutter og lidt"),
         "linje 14, kolonne In-Meeting Duration: »25 minutter og lidt« er ikke en varighed",
         "linje 14, kolonne In-Meeting Duration: «25 minutter og lidt» er ikke en varighet"),
        (flat + "Anne\tWaved\t4/8/2025, 1:00:00 PM\n",
         "linje 2: forventede handlingen Joined, Joined before eller Left; fandt »Waved«",
         "linje 2: forventet handlingen Joined, Joined before eller Left; fant «Waved»"),
        (flat + "Anne\tJoined\t\n", "linje 2: tidspunktet er tomt",
         "linje 2: tidspunktet er tomt"),
        (flat + "Anne\tJoined\tnu\n",
         "linje 2: tidspunktet »nu« er ikke en dato og et klokkeslæt",
         "linje 2: tidspunktet «nu» er ikke en dato og et klokkeslett"),
        (flat, "linje 1: ingen deltagere under kolonnerne Full Name, User Action, Timestamp",
         "linje 1: ingen deltakere under kolonnene Full Name, User Action, Timestamp"),
    ]:
        for language, expected in (("da", danish), ("nb", norwegian)):
            refused = client.post(url, data={"file": (io.BytesIO(text.encode("utf-16")), "x.csv"),
                                             "min_percent": "50"},
                                  content_type="multipart/form-data",
                                  headers={"Accept-Language": language})
            assert refused.status_code == 400
            shown = visible_text(refused)
            assert expected in shown, shown[:2000]
            assert not re.search(r"expected|is empty|is not a date|is not a duration|"
                                 r"no attendees|no participants", shown), shown[:2000]
