"""Meeting materials in a real browser: a facilitator uploads a PDF and a Word file, the
browser downloads them (the Word file as an attachment under its own name), and files that are
not what their name says are refused on the page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import CohortRole, MeetingMaterial
from cohort.services import accounts
from tests.fixtures import materials as files
from tests.fixtures.browser import log_in

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "materials password"
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(live_server, make_cohort):
    """A cohort with one participant and its owner; the participant's personal link."""
    live_server.app.config["COHORT_NOW"] = NOW
    cohort = make_cohort(live_server.engine, people=[ParticipantRow(
        "Anne Jensen", "anne@vejle.example", "Vejle Kommune", "Leder", "da")], now=NOW)
    with db.transaction(live_server.engine) as session:
        owner = accounts.create_user(session, "owner@cohort.example", "facilitator", PASSWORD)
        accounts.add_cohort_staff(session, cohort.id, owner, CohortRole.OWNER)
        person = services.participants.list_participants(session, cohort.id)[0]
        token = services.personal_token(session, person.id, "browser-tests", NOW)
    return cohort.id, token


def _upload(page: Page, url: str, cohort_id: int, name: str, data: bytes, mime: str) -> None:
    page.goto(f"{url}/cohorts/{cohort_id}/materials")
    page.select_option("select[name=meeting]", "kickoff")
    page.set_input_files("input[name=file]", files=[
        {"name": name, "mimeType": mime, "buffer": data}])
    page.locator("form[enctype] button[type=submit], form[enctype] input[type=submit]").click()
    page.wait_for_load_state()


def test_uploaded_files_download_in_the_browser_and_impostors_are_refused(
        browser, live_server, course, tmp_path):
    cohort_id, token = course
    url = live_server.url
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    try:
        log_in(page, url, "owner@cohort.example", PASSWORD)
        _upload(page, url, cohort_id, "Æblegrød.pdf", files.PDF, "application/pdf")
        expect(page.locator(".flash.success")).to_contain_text("Æblegrød.pdf")
        _upload(page, url, cohort_id, "Plan for året.docx", files.DOCX,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        expect(page.locator(".flash.success")).to_contain_text("Plan for året.docx")

        # Refused: a program renamed .pdf, a web page named .png (the browser even says so).
        _upload(page, url, cohort_id, "setup.pdf", files.EXE, "application/pdf")
        expect(page.locator("#file-error")).to_contain_text("not what its name says (a PDF")
        _upload(page, url, cohort_id, "photo.png", files.HTML, "image/png")
        expect(page.locator("#file-error")).to_contain_text("not what its name says (a PNG")
        with db.transaction(live_server.engine) as session:
            stored = session.scalars(select(MeetingMaterial).order_by(MeetingMaterial.id)).all()
        assert [m.filename for m in stored] == ["Æblegrød.pdf", "Plan for året.docx"]
        pdf, docx = stored
    finally:
        context.close()

    # The participant, through their personal link: both on their page, both download.
    context = browser.new_context(locale="da-DK", accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{url}/p/{token}")
        page.get_by_role("button", name="Fortsæt til din side").click()
        page.wait_for_url("**/me")
        link = page.locator(f"a[href='/me/materials/{docx.id}']")
        expect(link).to_have_count(1)
        with page.expect_download() as waiting:
            link.click()
        download = waiting.value
        assert download.suggested_filename == "Plan for året.docx"
        assert Path(download.path()).read_bytes() == files.DOCX

        # The PDF is served inline; saved by the browser it is the uploaded file, byte for
        # byte, under its Danish name.
        response = page.request.get(f"{url}/me/materials/{pdf.id}")
        assert response.status == 200 and response.body() == files.PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        page.set_content(f'<a id="save" href="{url}/me/materials/{pdf.id}" download>pdf</a>')
        with page.expect_download() as waiting:
            page.click("#save")
        assert waiting.value.suggested_filename == "Æblegrød.pdf"
        assert Path(waiting.value.path()).read_bytes() == files.PDF
        # Another cohort's or a made-up material is not there.
        assert page.request.get(f"{url}/me/materials/{pdf.id + 100}").status == 404
    finally:
        context.close()
