"""Keyboard-only journeys in a real browser (Debian's chromium): a participant checks in and
answers the self-assessment grid, a facilitator reschedules a meeting, using only Tab, typing,
Space, Enter and the arrow keys (no clicks). At every Tab stop the focus is visible (a computed
outline or box-shadow) and moves forward in reading (document) order; after a wrong submit the
error is tied to its field (aria-invalid, aria-describedby pointing at the message); each page
has one h1, a main landmark and a nav.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import Attendance, IdentifiedResponse, Meeting
from cohort.services import accounts
from tests.browser.test_accessibility import scan

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "keyboard journey password"
START = date(2025, 4, 8)
DURING_WORKSHOP = datetime(2025, 4, 17, 8, 0, tzinfo=UTC)  # in person, with a room code
AFTER_THE_LAST_MEETING = datetime(2025, 10, 6, 9, 0, tzinfo=UTC)  # self-assessment open
PEOPLE = [ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder",
                         "da"),
          ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Leder",
                         "nb")]

# What the focused element is, whether its focus shows, and whether it comes after the
# previous Tab stop in the document (reading order).
FOCUS = """() => {
  const e = document.activeElement, s = getComputedStyle(e), before = window.__tabStop;
  window.__tabStop = e;
  const same = before === e;  // Tab between the parts of a date: the browser marks the part
  const forward = !before || !document.contains(before) || same
    || !!(before.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING);
  return {tag: e.tagName.toLowerCase(), type: e.getAttribute('type') || '',
          name: e.getAttribute('name') || '', id: e.id, href: e.getAttribute('href') || '',
          text: (e.innerText || e.value || '').trim().slice(0, 60),
          visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                   || s.boxShadow !== 'none',
          forward: forward, same: same};
}"""


def tab_to(page: Page, wanted, limit: int = 250, back: bool = False) -> dict:
    """Press Tab (Shift+Tab with `back`) until `wanted(focused)` holds; every stop on the way
    must show its focus and (going forward) follow the previous one in reading order."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUS)
        if focused["tag"] == "body":
            continue
        assert focused["visible"] or focused["same"], f"focus not visible on {focused}"
        if not back:
            assert focused["forward"], f"focus went back in the reading order to {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"never reached the wanted element on {page.url}")


def press_and_load(page: Page, key: str) -> None:
    """A key that sends a form: wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def structure(page: Page) -> None:
    """One h1, a main landmark and a navigation landmark; no positive tabindex."""
    assert page.locator("h1").count() == 1, page.url
    assert page.locator("main").count() == 1, page.url
    assert page.locator("nav").count() >= 1, page.url
    assert page.locator("[tabindex]:not([tabindex='0']):not([tabindex='-1'])").count() == 0


def error_tied_to(page: Page, selector: str) -> str:
    """The field is marked invalid and described by a visible message; its text."""
    field = page.locator(selector).first
    assert field.get_attribute("aria-invalid") == "true", selector
    described = (field.get_attribute("aria-describedby") or "").split()
    texts = [page.locator(f"[id='{i}']").inner_text().strip() for i in described]
    errors = [t for i, t in zip(described, texts, strict=True) if "error" in i and t]
    assert errors, f"{selector} is not described by an error message: {described}"
    return " ".join(errors)


@pytest.fixture
def cohort(live_server, make_cohort):
    cohort = make_cohort(live_server.engine, people=PEOPLE, start=START,
                         title="Digitalt Lederskab, hold 1", now=datetime(2025, 3, 1, tzinfo=UTC))
    with db.transaction(live_server.engine) as session:
        user = accounts.create_user(session, "facilitator@cohort.example", "facilitator",
                                    PASSWORD)
        accounts.add_cohort_staff(session, cohort.id, user)
    return cohort


def test_participant_checks_in_and_answers_the_grid_with_the_keyboard(browser, live_server,
                                                                      cohort, artifacts_dir):
    app = live_server.app
    app.config["COHORT_NOW"] = DURING_WORKSHOP
    with db.transaction(live_server.engine) as session:
        soren = services.participants.list_participants(session, cohort.id)[1]
        assert soren.email == "soren@vejle.example"
        token = services.personal_token(session, soren.id, "browser-tests", DURING_WORKSHOP)
        code = services.check_in_code(session, cohort.id, "workshop-1")
        workshop = services.get_meeting(session, cohort.id, "workshop-1").id
        survey = services.get_survey(session, cohort.id, "self-assessment-post")
    context = browser.new_context(locale="da-DK", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/p/{token}")
        tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit"
               and "Fortsæt" in f["text"])
        page.keyboard.press("Enter")
        page.wait_for_url("**/me")
        structure(page)

        # A wrong code first: the message is tied to the code field.
        code_field = f"checkin-{workshop}-code"
        tab_to(page, lambda f: f["id"] == code_field)
        page.keyboard.type("AAAAAA" if code != "AAAAAA" else "CCCCCC")
        press_and_load(page, "Enter")
        assert "ikke koden" in error_tied_to(page, f"[id='{code_field}']")
        findings: list[str] = []
        scan(page, "/me after a wrong code", findings)
        tab_to(page, lambda f: f["id"] == code_field)
        page.keyboard.type(code)
        tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Tjek ind")
        press_and_load(page, "Space")
        page.locator(".ok-text").first.wait_for()
        with db.transaction(live_server.engine) as session:
            marks = session.scalars(select(Attendance).where(
                Attendance.participant_id == soren.id)).all()
        assert [(m.meeting_id, m.state) for m in marks] == [(workshop, "present")]

        # After the programme: the self-assessment, from the card at the top of the page.
        app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
        page.reload()
        tab_to(page, lambda f: f["href"] == f"/me/surveys/{survey.id}")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/me/surveys/{survey.id}")
        structure(page)
        radios = page.locator("table.matrix input[type=radio]")
        names = list(dict.fromkeys(radios.evaluate_all("rs => rs.map(r => r.name)")))
        assert len(names) == 9 and all(n.startswith("q-competences.") for n in names)
        skipped = names[4]

        def answer_grid(skip: str | None) -> None:
            """Into each area's radio group with Tab; Space picks the first scale point, the
            right arrow moves the choice along; `skip` is left out."""
            for index, name in enumerate(names):
                tab_to(page, lambda f, name=name: f["name"] == name)
                if name == skip:
                    continue
                page.keyboard.press("Space")
                for _ in range(index % 4):
                    page.keyboard.press("ArrowRight")

        answer_grid(skip=skipped)
        tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit")
        press_and_load(page, "Enter")
        assert page.locator(".error-summary").is_visible()
        message = error_tied_to(page, f"input[name='{skipped}']")
        assert message
        assert page.locator(f"input[name='{names[0]}']:checked").count() == 1  # kept
        page.screenshot(path=str(artifacts_dir / "keyboard-grid-error-390px.png"),
                        full_page=True)
        # axe on the grid with its error, stacked (390 px) and as a table (1280 px).
        scan(page, "390px self-assessment with an error", findings)
        page.set_viewport_size({"width": 1280, "height": 900})
        scan(page, "1280px self-assessment with an error", findings)
        page.screenshot(path=str(artifacts_dir / "keyboard-grid-error-1280px.png"),
                        full_page=True)
        assert findings == [], "\n".join(findings)
        # Back to the area left out (Shift+Tab from the send button), then send.
        tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit")
        tab_to(page, lambda f: f["name"] == skipped, back=True)
        page.keyboard.press("ArrowLeft")  # a group with nothing chosen: picks a point
        if page.locator(f"input[name='{skipped}']:checked").count() == 0:
            page.keyboard.press("Space")
        tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit")
        page.keyboard.press("Enter")
        page.locator("#survey-state").wait_for()
        with db.transaction(live_server.engine) as session:
            stored = session.scalars(select(IdentifiedResponse).where(
                IdentifiedResponse.survey_id == survey.id)).one()
        answers = stored.answers["competences"]
        assert len(answers) == 9
        assert [answers[n.split(".", 1)[1]] for n in names if n != skipped] == \
            [1 + i % 4 for i, n in enumerate(names) if n != skipped]
    finally:
        app.config.pop("COHORT_NOW", None)
        context.close()


def test_facilitator_reschedules_a_meeting_with_the_keyboard(browser, live_server, cohort):
    app = live_server.app
    app.config["COHORT_NOW"] = DURING_WORKSHOP
    with db.transaction(live_server.engine) as session:
        before = services.get_meeting(session, cohort.id, "webinar-2")
    zone = ZoneInfo(cohort.timezone)
    local = before.starts_at.astimezone(zone)
    target = local + timedelta(days=7)
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login")
        structure_login = page.locator("h1").count()
        assert structure_login == 1
        tab_to(page, lambda f: f["id"] == "email")
        page.keyboard.type("facilitator@cohort.example")
        tab_to(page, lambda f: f["id"] == "password")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard")
        structure(page)

        # From the cohort's plan to the meeting's "reschedule" link, by Tab and Enter.
        page.goto(f"{live_server.url}/cohorts/{cohort.id}/plan")
        structure(page)
        tab_to(page, lambda f: f["href"].endswith("/meetings/webinar-2/reschedule"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/meetings/webinar-2/reschedule")
        structure(page)

        # A wrong submit: the date emptied (one segment cleared makes the date empty).
        tab_to(page, lambda f: f["id"] == "day")
        page.keyboard.press("Backspace")
        tab_to(page, lambda f: f["name"] == "preview")
        press_and_load(page, "Enter")
        assert error_tied_to(page, "#day")

        # The right date, typed into the date's parts (in the order the browser shows them:
        # a probe date tells day-first from month-first), then preview and confirm.
        tab_to(page, lambda f: f["id"] == "day")
        page.keyboard.type("01022030")
        probe = page.locator("#day").input_value()
        assert probe in ("2030-02-01", "2030-01-02"), probe
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")  # back to the first part
        page.keyboard.type(target.strftime("%d%m%Y" if probe == "2030-02-01" else "%m%d%Y"))
        assert page.locator("#day").input_value() == target.date().isoformat()
        tab_to(page, lambda f: f["name"] == "preview")
        page.keyboard.press("Enter")
        page.locator("h2#preview-heading").wait_for()
        assert page.locator("[aria-invalid=true]").count() == 0
        tab_to(page, lambda f: f["name"] == "confirm")
        press_and_load(page, "Enter")
        with db.transaction(live_server.engine) as session:
            after = session.get(Meeting, before.id)
        assert after.starts_at.astimezone(zone).date() == target.date()
        assert after.starts_at.astimezone(zone).time() == local.time()
    finally:
        app.config.pop("COHORT_NOW", None)
        context.close()
