"""The outbox preview shows an email as its recipient sees it: the HTML part in a frame served
from its own route with its own strict policy (inline styles, which every email uses, but no
script at all, sandboxed), at a useful size; the plain text wrapped; subject and recipients.

In Chromium, with the page's console watched: a style or script the policy refuses is
reported there ("Refused to apply inline style ..."), so none may be."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cohort import db
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.models import CohortRole, Delivery
from cohort.services import accounts
from tests.fixtures.browser import log_in

pytestmark = pytest.mark.slow  # a real browser

PASSWORD = "email preview password"
PEOPLE = [ParticipantRow("Søren Ærø Ågård", "soeren@kommune.example", "Kommune", "Leder", "da"),
          ParticipantRow("Kari Nordmann", "kari@kommune.example", "Kommune", "Leder", "nb")]


@pytest.fixture
def welcome(live_server, make_cohort):
    cohort = make_cohort(live_server.engine, people=PEOPLE)
    with db.transaction(live_server.engine) as session:
        user = accounts.create_user(session, "facilitator@cohort.example", "facilitator",
                                    PASSWORD)
        accounts.add_cohort_staff(session, cohort.id, user, CohortRole.OWNER)
        row = session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort.id, Delivery.kind == kinds.WELCOME,
            Delivery.recipient == PEOPLE[0].email)).one()
    return cohort.id, row.id


def test_the_email_renders_with_its_styles_and_no_policy_refuses_anything(
        browser, live_server, welcome, artifacts_dir):
    cohort_id, delivery_id = welcome
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    try:
        log_in(page, live_server.url, "facilitator@cohort.example", PASSWORD)
        page.goto(f"{live_server.url}/cohorts/{cohort_id}/outbox/{delivery_id}")
        frame_element = page.locator("iframe.preview-frame")
        frame_element.wait_for()
        frame = frame_element.content_frame
        button = frame.get_by_role("link", name="Åbn din personlige side").first
        button.wait_for()
        # The email's own inline styles apply: its button is blue with white text, padded.
        style = button.evaluate("e => { const s = getComputedStyle(e); return "
                                "[s.backgroundColor, s.color, s.paddingLeft, s.display]; }")
        assert style == ["rgb(31, 95, 139)", "rgb(255, 255, 255)", "18px", "inline-block"]
        # At a useful size: the email's 600 px column fits without a scrollbar.
        box = frame_element.bounding_box()
        assert box is not None and box["width"] >= 640 and box["height"] >= 480
        # Subject and recipients above it; the plain text wraps instead of running off.
        headers = page.locator("table.message-headers")
        assert PEOPLE[0].email in headers.inner_text()
        assert headers.locator("th", has_text="Emne").count() == 1
        text = page.locator("pre.preview-text")
        assert text.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert text.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
        page.screenshot(path=str(artifacts_dir / "email-preview-1280px.png"), full_page=True)
        # Scripts stay out: the frame is sandboxed, and its own policy allows none.
        assert frame_element.get_attribute("sandbox") == ""
        source = live_server.url + (frame_element.get_attribute("src") or "")
        policy = page.request.get(source).headers["content-security-policy"]
        assert "script-src" not in policy and "default-src 'none'" in policy
        assert "sandbox" in policy and "style-src 'unsafe-inline'" in policy
        refused = [line for line in console if "Content Security Policy" in line
                   or "Refused to" in line or "Blocked script" in line]
        assert refused == []
        # The watch sees a refusal: an inline style on the app's own page is one.
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                      "'<p style=\"color: red\">refused</p>')")
        page.wait_for_timeout(200)
        assert any("Content Security Policy" in line for line in console), console
    finally:
        context.close()
