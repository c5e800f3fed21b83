"""Staff pages in a real browser, on the demo cohort `make run` loads: an evaluator reads the
results (an agree-share statement, small groups hidden), a facilitator fills in the
attendance list of the last meeting on a tablet."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cohort import db, services
from cohort.core.attendance import ABSENT, EXCUSED, PRESENT
from cohort.demo import load_demo
from cohort.models import CohortRole, Delivery
from cohort.services import accounts
from tests.fixtures.paths import PROGRAMMES

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "staff pages password"


@pytest.fixture
def demo(live_server):
    """The demo: its finished cohort with an evaluator, its running one with an owner and
    webinar 1 not yet recorded."""
    cohorts = load_demo(live_server.engine, PROGRAMMES)
    with db.transaction(live_server.engine) as session:
        for email, role, cohort_role, cohort_id in (
                ("evaluator@cohort.example", "evaluator", CohortRole.EVALUATOR,
                 cohorts.finished),
                ("facilitator@cohort.example", "facilitator", CohortRole.OWNER,
                 cohorts.running)):
            user = accounts.create_user(session, email, role, PASSWORD)
            accounts.add_cohort_staff(session, cohort_id, user, cohort_role)
        sheet = services.meeting_sheet(session, cohorts.running, "webinar-1")
        services.set_marks(session, cohorts.running, "webinar-1",
                           {row.participant.id: None for row in sheet.rows})
    return cohorts


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My cohorts")).to_be_visible()


def test_evaluator_reads_results_with_small_groups_hidden(browser, live_server, demo,
                                                         artifacts_dir):
    with db.transaction(live_server.engine) as session:
        final = services.get_survey(session, demo.finished, "final")
        statement = services.survey_results(session, final.id).agree_statements()[0]
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, live_server.url, "evaluator@cohort.example")
        page.get_by_role("link", name=re.compile("demohold")).click()
        expect(page.get_by_role("heading", name="Response rates")).to_be_visible()
        page.get_by_role("link", name="Afsluttende evaluering af forløbet").click()
        expect(page.get_by_text(statement).first).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "staff-evaluator-results.png"), full_page=True)

        # The pre self-assessment by organisation: eight groups of at most four answers each.
        page.get_by_role("link", name="Responses").click()
        page.get_by_role("link", name="Selvvurdering før forløbet").click()
        page.get_by_role("navigation", name="Break down").get_by_role(
            "link", name="organisation").click()
        table = page.locator("table.breakdown")
        expect(table.get_by_text("number hidden")).to_have_count(8)
        expect(table.get_by_text("hidden", exact=True).first).to_be_visible()
        assert "mean" not in table.inner_text()
        page.screenshot(path=str(artifacts_dir / "staff-evaluator-hidden-groups.png"),
                        full_page=True)
    finally:
        context.close()


def test_facilitator_fills_in_the_attendance_list_on_a_tablet(browser, live_server, demo,
                                                             artifacts_dir):
    with db.transaction(live_server.engine) as session:
        people = [row.participant for row in services.meeting_sheet(
            session, demo.running, "webinar-1").rows]
        # The demo recorded webinar 1 as it ended: who missed it then has had a catch-up
        # email already (one per meeting and person); mark two who had not.
        caught_up = set(session.scalars(select(Delivery.participant_id).where(
            Delivery.cohort_id == demo.running, Delivery.anchor == "catch-up:webinar-1")))
    absent, excused = [p for p in people if p.id not in caught_up][:2]
    context = browser.new_context(locale="en-GB", viewport={"width": 820, "height": 1180},
                                  has_touch=True)
    page = context.new_page()
    try:
        _log_in(page, live_server.url, "facilitator@cohort.example")
        page.get_by_role("link", name=re.compile("demohold")).click()
        page.get_by_role("link", name="Attendance Webinar 1").click()
        expect(page.get_by_role("heading", name="Webinar 1")).to_be_visible()
        page.get_by_role("group", name=absent.name).get_by_text("Absent", exact=True).tap()
        page.get_by_role("group", name=excused.name).get_by_text("Excused", exact=True).tap()
        page.get_by_label(f"Note about {excused.name}").fill("Ferie")
        page.screenshot(path=str(artifacts_dir / "staff-attendance-list.png"))
        # The bulk action is a second step behind the primary Save.
        expect(page.get_by_role("button", name="Save; everyone not marked is present")
               ).to_be_hidden()
        page.get_by_text("Everyone not marked was there?").tap()
        page.get_by_role("button", name="Save; everyone not marked is present").tap()
        expect(page.get_by_text(f"{len(people)} marks saved. 2 catch-up emails queued.")
               ).to_be_visible()
        expect(page.get_by_role("group", name=absent.name).get_by_label("Absent")).to_be_checked()
        page.screenshot(path=str(artifacts_dir / "staff-attendance-saved.png"))
    finally:
        context.close()
    with db.transaction(live_server.engine) as session:
        rows = services.meeting_sheet(session, demo.running, "webinar-1").rows
    states = {row.participant.id: (row.attendance.state, row.attendance.note) for row in rows}
    assert states.pop(absent.id) == (ABSENT, "")
    assert states.pop(excused.id) == (EXCUSED, "Ferie")
    assert set(states.values()) == {(PRESENT, "")}
