"""200 % zoom and a phone without sideways scrolling (WCAG 1.4.10 Reflow): the main pages of
the demo cohort at 640 CSS px (a 1280 px window zoomed to 200 %, emulated with a device scale
of 2) and at 375 px. `document.documentElement.scrollWidth <= clientWidth` on each; the
participant page at 375 px and the cohort overview at 1280 px are saved as screenshots.
A table too wide for the screen may scroll inside its own container (.table-wrap, which can be
focused and scrolled with the arrow keys); the page itself must not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from cohort import db, services
from cohort.demo import load_demo
from cohort.mail.compose import MailContext, message_data
from cohort.mail.render import render
from cohort.models import CohortRole, Delivery, Participant, Survey
from cohort.services import accounts
from tests.fixtures.browser import log_in
from tests.fixtures.paths import REPO

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "zoom password"
# (CSS width, device scale): 200 % zoom of a 1280 px window, and a phone.
SIZES = [(640, 2), (375, 2)]
# An installation whose address is long, as a region's may be: the personal link in the
# welcome email is then a long string with no place a browser would break it (the path has
# no hyphen; the random token may have some, so the first 60 characters alone are too wide).
LONG_BASE_URL = ("https://forloebsportalen.regionsyddanmark.example/"
                 "kommunernesdigitaliseringsogkompetenceudviklingsforloeb")


@pytest.fixture
def demo(live_server):
    cohort_id = load_demo(live_server.engine, REPO / "programmes").running
    with db.transaction(live_server.engine) as session:
        user = accounts.create_user(session, "zoom@cohort.example", "facilitator", PASSWORD)
        accounts.add_cohort_staff(session, cohort_id, user, CohortRole.OWNER)
        person = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id).order_by(Participant.id)).first()
        # A moment when one of the participant's surveys is open (its form is on the page).
        for survey in session.scalars(select(Survey).where(Survey.cohort_id == cohort_id)
                                      .order_by(Survey.opens_at)):
            moment = survey.opens_at + timedelta(hours=1)
            if services.survey_for_participant(session, person, survey.id,
                                               moment).state == "open":
                break
        token = services.personal_token(session, person.id, "browser-tests", moment)
        welcome = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.participant_id == person.id,
            Delivery.kind == "welcome")).first()
        context = MailContext(base_url=LONG_BASE_URL, mail_from="cohort@region.example",
                              secret_key="browser-tests", message_id_domain="region.example")
        email = render(message_data(session, welcome, context, moment)).html
    assert LONG_BASE_URL in email
    return dict(cohort=cohort_id, token=token, survey=survey.id, moment=moment, email=email)


def sideways(page: Page) -> str | None:
    """None, or how far the page scrolls sideways and the widest elements sticking out."""
    extra = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if extra <= 0:
        return None
    culprits = page.evaluate("""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                       + ' ' + (e.textContent || '').trim().slice(0, 40))""")
    return f"{extra}px ({culprits})"


@pytest.mark.parametrize("width, scale", SIZES)
def test_main_pages_reflow_without_sideways_scrolling(browser, live_server, demo,
                                                      artifacts_dir, width, scale):
    app = live_server.app
    cohort = f"/cohorts/{demo['cohort']}"
    overflowing: list[str] = []
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 800},
                                  device_scale_factor=scale)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "zoom@cohort.example", PASSWORD)
        for path in (cohort, f"{cohort}/outbox", f"{cohort}/groups", f"{cohort}/participants/",
                     f"{cohort}/plan", "/dashboard"):
            page.goto(live_server.url + path)
            if extra := sideways(page):
                overflowing.append(f"{path}: {extra}")

        # The participant's page and a survey form, signed in by the personal link.
        app.config["COHORT_NOW"] = demo["moment"]
        page.goto(f"{live_server.url}/p/{demo['token']}")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/me")
        if extra := sideways(page):
            overflowing.append(f"/me: {extra}")
        # The "done" buttons, check-in buttons and page links are targets of at least 44 px.
        targets = page.evaluate("""[...document.querySelectorAll(
            '.participant button.toggle, .participant .check-in button, .on-this-page a')]
            .map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
            .map(r => [Math.round(r.width), Math.round(r.height)])""")
        assert targets and all(w >= 44 and h >= 44 for w, h in targets), targets
        if width == 375:
            page.screenshot(path=str(artifacts_dir / "participant-page-375px.png"),
                            full_page=True)
        page.goto(f"{live_server.url}/me/surveys/{demo['survey']}")
        if extra := sideways(page):
            overflowing.append(f"survey: {extra}")
        if width == 375:
            page.screenshot(path=str(artifacts_dir / "survey-form-375px.png"), full_page=True)

        # The welcome email, with its long personal link, as a phone's mail app shows it.
        # (A fresh tab: the app's Content-Security-Policy, which forbids inline styles, must
        # not apply to the email, whose styles are inline as mail programs need them.)
        page = context.new_page()
        page.set_content(demo["email"])
        if extra := sideways(page):
            overflowing.append(f"welcome email: {extra}")
    finally:
        app.config.pop("COHORT_NOW", None)
        context.close()
    assert overflowing == [], f"sideways scrolling at {width}px: {overflowing}"
