"""axe-core (the accessibility engine) on every page of every role, in Danish, at desktop
(1280 px) and phone (375 px) width: no serious or critical violation anywhere; moderate and
minor ones only if ALLOWED below says why.

One browser, one tab per role and width, reused for all its pages: each page is loaded and
scanned once (a second or two); axe-core is in every page from its start (an init script).
The demo cohort `make run` shows is the data, so the pages have what people really see:
attendance, answers, groups, notes.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy import select

from cohort import db, services
from cohort.demo import load_demo
from cohort.models import CohortRole, Meeting, Participant, Survey
from cohort.services import accounts, materials, staff
from tests.fixtures.browser import log_in
from tests.fixtures.paths import REPO

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "accessibility password"
WIDTHS = (1280, 375)
BLOCKING = ("serious", "critical")
# The WCAG 2.1 A and AA rules and axe's best practices.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "best-practice"]},
               "resultTypes": ["violations"]}
# Moderate and minor findings we accept, by rule id, each with its reason. Anything else fails.
# Empty: the last full run (2026-12-06, axe-core 4.12) found no moderate or minor violation on
# any page below. Add an entry only with a reason a reviewer can check, e.g.
#   "rule-id": "why it cannot or need not be fixed, and what the reader gets instead",
ALLOWED: dict[str, str] = {}

axe = Axe()
# axe-core in the top frame of every page, from the page's first script on: where
# `page.evaluate` put it before each scan, at 0.1-0.2 s a page to send and compile its 570 kB
# again (the email preview's frame, sandboxed, gets none either way).
AXE_IN_EVERY_PAGE = f"if (window === window.top) {{\n{axe.axe_script}\n}}"
RUN_AXE = f"axe.run({json.dumps(AXE_OPTIONS)})"


def scan(page: Page, label: str, findings: list[str]) -> None:
    """Run axe on the loaded page; record what is not allowed."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe.axe_script)  # a tab without AXE_IN_EVERY_PAGE
    results = page.evaluate(RUN_AXE)
    for violation in results["violations"]:
        impact = violation["impact"]
        if impact not in BLOCKING and violation["id"] in ALLOWED:
            continue
        targets = [" ".join(node["target"]) for node in violation["nodes"][:5]]
        findings.append(f"{label}: {violation['id']} ({impact}) {violation['help']} "
                        f"on {targets}")


@pytest.fixture
def demo(live_server):
    """The demo cohort, its owner, its evaluator and an admin; the moment is pinned inside
    the check-in window of an in-person meeting, so the participant page has its check-in."""
    cohort_id = load_demo(live_server.engine, REPO / "programmes").running
    with db.transaction(live_server.engine) as session:
        for email, role, cohort_role in (
                ("facilitator@cohort.example", "facilitator", CohortRole.OWNER),
                ("evaluator@cohort.example", "evaluator", CohortRole.EVALUATOR),
                ("admin@cohort.example", "admin", None)):
            user = accounts.create_user(session, email, role, PASSWORD)
            if cohort_role:
                accounts.add_cohort_staff(session, cohort_id, user, cohort_role)
        meetings = session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)
                                   .order_by(Meeting.starts_at)).all()
        in_person = [m for m in meetings if not m.online_url and m.starts_at
                     and m.key.startswith(("workshop", "module", "kickout"))]
        meeting = in_person[-1]
        person = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).first()
        check_in_at = meeting.starts_at + timedelta(minutes=10)
        token = services.personal_token(session, person.id, "browser-tests", check_in_at)
        # A survey the demo has not answered for this participant yet.
        for survey in session.scalars(select(Survey).where(Survey.cohort_id == cohort_id)
                                      .order_by(Survey.opens_at)):
            survey_at = survey.opens_at + timedelta(hours=1)
            if services.survey_for_participant(session, person, survey.id,
                                               survey_at).state == "open":
                break
        note = services.save_note(session, cohort_id, "meeting-observation", {},
                                  now=check_in_at)
        # No attribution: in the demo an organisation has 4 participants, fewer than 5.
        quote = services.add_quote(session, cohort_id, "Vi prøver nu i det små først.",
                                   note_id=note.id, now=check_in_at)
        # A buddy check-in round released by then (the participant has a buddy in the demo).
        buddy_round = services.participant_check_ins(session, person, check_in_at)[0].task_id
        # Materials: on the meeting of the check-in (the participant page lists them), and
        # a colleague invited by the owner (the activation page).
        materials.add_link(session, cohort_id, meeting.key, "Forberedelse: kort video",
                           "https://video.example/forberedelse", False, None, check_in_at)
        materials.add_file(session, materials.MaterialStore(live_server.app.config[
            "MATERIALS_DIR"]), cohort_id, meeting.key, "Øvelser", "Øvelser.pdf",
            b"%PDF-1.4\n%%EOF\n", False, 1024, None, check_in_at)
        owner = accounts.find_user(session, "facilitator@cohort.example")
        activation = staff.add_staff(session, cohort_id, "kollega@region.example",
                                     "evaluator", owner, check_in_at).activation_token
    return dict(cohort=cohort_id, token=token, check_in_at=check_in_at, survey=survey.id,
                survey_at=survey_at, note=note.id, quote=quote.id,
                buddy_round=buddy_round, activation=activation)


def staff_pages(c: int, note: int, quote: int) -> dict[str, list[str]]:
    cohort = f"/cohorts/{c}"
    evaluation = [f"{cohort}/evaluation", f"{cohort}/evaluation/surveys/final",
                  f"{cohort}/evaluation/surveys/self-assessment-pre?by=role",
                  f"{cohort}/report"]
    return {
        "facilitator@cohort.example": [
            "/dashboard", "/dashboard?phase=running", "/programmes/",
            "/programmes/digital-lederskab", "/cohorts/new",
            cohort, f"{cohort}/plan", f"{cohort}/participants/", f"{cohort}/groups",
            f"{cohort}/attendance", f"{cohort}/attendance/kickoff",
            f"{cohort}/attendance/workshop-1/code", f"{cohort}/attendance/kickoff/import",
            f"{cohort}/meetings/webinar-2/reschedule", f"{cohort}/outbox",
            f"{cohort}/outbox/digest", f"{cohort}/activity", f"{cohort}/staff",
            f"{cohort}/progress", f"{cohort}/progress?missed=1&sort=missed&order=desc",
            f"{cohort}/announcements", f"{cohort}/materials", *evaluation,
            "/account/"],
        "evaluator@cohort.example": [
            "/dashboard", "/evaluation", "/evaluation?q=demohold", *evaluation,
            f"{cohort}/evaluation/surveys/final/texts", f"{cohort}/evaluation/notes",
            f"{cohort}/evaluation/notes/new/final-interview",
            f"{cohort}/evaluation/notes/{note}", f"{cohort}/evaluation/quotes",
            f"{cohort}/evaluation/quotes/{quote}/edit"],
        "admin@cohort.example": ["/admin/users"],
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_accessibility_violations(browser, live_server, demo, artifacts_dir, width):
    findings: list[str] = []
    scanned: list[str] = []
    app = live_server.app
    url = live_server.url

    def visit(page: Page, path: str, who: str) -> None:
        response = page.goto(url + path)
        assert response is not None and response.status < 500, f"{path}: {response}"
        scan(page, f"{width}px {who} {path}", findings)
        scanned.append(path)

    def tab():
        context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 900})
        context.add_init_script(AXE_IN_EVERY_PAGE)
        return context, context.new_page()

    # Anyone: the login page, a missing page and the accessibility statement.
    context, page = tab()
    try:
        for path in ("/login", "/no-such-page", "/accessibility",
                     f"/account/activate/{demo['activation']}", "/account/activate/made-up"):
            visit(page, path, "anonymous")
        # The activation form sent with two different passwords: its error messages.
        page.goto(url + f"/account/activate/{demo['activation']}")
        page.fill("input[name=new]", "a good long password")
        page.fill("input[name=repeat]", "another long password")
        page.press("input[name=repeat]", "Enter")
        page.wait_for_load_state()
        assert page.locator(".error").count() > 0, "no error on the activation form"
        scan(page, f"{width}px anonymous activation with errors", findings)
        # The scan itself works: an image without a text alternative is found.
        page.evaluate("document.querySelector('main').append(document.createElement('img'))")
        broken: list[str] = []
        scan(page, "broken on purpose", broken)
        assert any("image-alt (critical)" in finding for finding in broken), broken
    finally:
        context.close()

    # Staff, each role in its own tab.
    for email, paths in staff_pages(demo["cohort"], demo["note"], demo["quote"]).items():
        context, page = tab()
        try:
            log_in(page, url, email, PASSWORD)
            for path in paths:
                visit(page, path, email.split("@")[0])
            if email.startswith("facilitator"):
                # "Plan again" on groups the welcome named: the confirmation with the diff.
                page.goto(url + f"/cohorts/{demo['cohort']}/groups")
                page.locator("input[name=seed]").first.fill("7")
                page.locator("form[action$='/groups/plan'] button").first.click()
                page.wait_for_load_state()
                assert page.locator("#group-changes").count() == 1, "no confirmation"
                scan(page, f"{width}px facilitator groups confirmation", findings)
            if email.startswith("facilitator"):
                # A meeting's reschedule after "Preview": what moves, warnings, confirm.
                page.goto(url + f"/cohorts/{demo['cohort']}/meetings/webinar-2/reschedule")
                day = page.locator("input[name=day]")
                day.fill((date.fromisoformat(day.input_value()) + timedelta(days=7)).isoformat())
                page.locator("[name=preview]").click()
                page.wait_for_load_state()
                assert page.locator("#preview-heading").count() == 1, "no reschedule preview"
                assert page.locator("[name=confirm]").count() == 1, "no confirm button"
                scan(page, f"{width}px facilitator reschedule preview", findings)
                if width == 375:
                    page.screenshot(path=str(artifacts_dir / "a11y-reschedule-preview-375px.png"),
                                    full_page=True)
            if email.startswith("facilitator"):
                # An announcement after "Preview": who gets it, when, and the text.
                page.goto(url + f"/cohorts/{demo['cohort']}/announcements")
                page.locator("input[name=subject]").fill("Nyt lokale til workshop 2")
                page.locator("textarea[name=body]").fill("Vi mødes i lokale 3.14.\nVel mødt!")
                page.locator("[name=preview]").click()
                page.wait_for_load_state()
                assert page.locator("#preview-h").count() == 1, "no announcement preview"
                assert page.locator("[name=confirm]").count() == 1, "no send button"
                scan(page, f"{width}px facilitator announcement preview", findings)
            if email.startswith("facilitator"):
                # The outbox filtered and on its second page, and one email's preview.
                outbox = url + f"/cohorts/{demo['cohort']}/outbox"
                visit(page, outbox.removeprefix(url) + "?state=pending&page=2", "facilitator")
                assert page.locator(".outbox-emails tbody tr").count() > 0, "empty outbox"
                assert page.locator("a[rel=prev]").count() == 1, "no second page"
                page.locator(".outbox-emails tbody a").first.click()
                page.wait_for_load_state()
                assert page.locator("pre.preview-text").count() == 1, "no preview"
                # The email itself, in its frame (tests/browser/test_email_preview.py).
                page.locator("iframe.preview-frame").content_frame.locator("body").wait_for()
                scan(page, f"{width}px facilitator outbox preview", findings)
                if width == 1280:
                    page.goto(outbox)
                    page.screenshot(path=str(artifacts_dir / "outbox-1280px.png"),
                                    full_page=True)
            if email.startswith("facilitator"):
                # The questions before email goes: reminding everyone the filters show, and
                # resending a sent email (how many, to whom, and the confirm button).
                page.goto(url + f"/cohorts/{demo['cohort']}/progress")
                page.locator("[name=remind_all]").click()
                page.wait_for_load_state()
                assert page.locator("[name=confirm_all]").count() == 1, "no remind confirmation"
                scan(page, f"{width}px facilitator remind everyone confirmation", findings)
                page.goto(url + f"/cohorts/{demo['cohort']}/outbox?state=sent")
                page.locator(".outbox-emails tbody a").first.click()
                page.wait_for_load_state()
                page.locator("form[action$='/resend'] button").click()
                page.wait_for_load_state()
                assert page.locator("[name=confirm]").count() == 1, "no resend confirmation"
                scan(page, f"{width}px facilitator resend confirmation", findings)
            if email.startswith("facilitator") and width == 1280:
                page.goto(url + f"/cohorts/{demo['cohort']}")
                page.screenshot(path=str(artifacts_dir / "a11y-cohort-overview-1280px.png"),
                                full_page=True)
        finally:
            context.close()

    # A participant: the personal link, the page with its check-in, a wrong code, a survey.
    context, page = tab()
    try:
        app.config["COHORT_NOW"] = demo["check_in_at"]
        visit(page, f"/p/{demo['token']}", "participant")
        page.get_by_role("button", name="Fortsæt til din side").click()
        page.wait_for_url("**/me")
        visit(page, "/me", "participant")
        assert page.locator(".check-in").count() > 0, "no check-in on the participant page"
        assert page.locator("ul.materials a").count() >= 2, "no materials on /me"
        if width == 375:
            page.screenshot(path=str(artifacts_dir / "a11y-participant-375px.png"),
                            full_page=True)
        check_in = page.locator(".check-in form").first
        code = check_in.locator("input[name$=code]")
        if code.count():
            code.fill("AAA-AAA")
        check_in.locator("button").first.click()
        page.wait_for_load_state()
        scan(page, f"{width}px participant check-in answer", findings)
        # The buddy check-in from the email's link, answered with one tap.
        visit(page, f"/me/buddy/{demo['buddy_round']}", "participant")
        page.get_by_role("button", name="Ja, vi har mødtes").click()
        page.wait_for_load_state()
        assert page.locator("#buddy-check-ins").count() == 1, "no buddy check-in on /me"
        scan(page, f"{width}px participant buddy check-in answered", findings)
        app.config["COHORT_NOW"] = demo["survey_at"]
        visit(page, f"/me/surveys/{demo['survey']}", "participant")
        assert page.locator("form fieldset").count() > 0, "the survey form is not shown"
        # The form sent empty: the page with its error messages.
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        scan(page, f"{width}px participant survey with errors", findings)
    finally:
        app.config.pop("COHORT_NOW", None)
        context.close()

    assert len(scanned) > 30
    assert findings == [], "\n".join(findings)
