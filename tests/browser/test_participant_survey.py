"""A participant answers the final survey on a phone, in a real browser (Debian's chromium):
open the personal link from the invitation email, continue, see that the survey is anonymous,
get a missing answer pointed out, send, and find the survey "already answered" when the same
form is sent a second time (from a second tab) or the link is opened again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import AnonymousResponse

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True,
             has_touch=True)
AFTER_THE_LAST_MEETING = datetime(2025, 10, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def invitation_link(live_server, make_cohort) -> tuple[str, int]:
    """The link of Søren's invitation to the final survey of digital-lederskab, as the email
    gives it (see mail.compose): his personal link continuing to the survey."""
    from cohort.mail.compose import SURVEY_PAGE, personal_link_to

    live_server.app.config["COHORT_NOW"] = AFTER_THE_LAST_MEETING
    people = [ParticipantRow("Søren Ærenlund", "soren@vejle.example", "Vejle Kommune", "Leder",
                             "da"),
              ParticipantRow("Kari Nordmann", "kari@bergen.example", "Bergen kommune", "Leder",
                             "nb")]
    cohort = make_cohort(live_server.engine, people=people, title="Digitalt Lederskab, hold 1",
                         now=datetime(2025, 3, 1, tzinfo=UTC))
    with db.transaction(live_server.engine) as session:
        soren = services.participants.list_participants(session, cohort.id)[1]
        assert soren.email == "soren@vejle.example"
        token = services.personal_token(session, soren.id, "browser-tests",
                                        AFTER_THE_LAST_MEETING)
        survey = services.get_survey(session, cohort.id, "final").id
    personal_url = f"{live_server.url}/p/{token}"
    return personal_link_to(personal_url, SURVEY_PAGE.format(survey_id=survey)), survey


def no_sideways_scrolling(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def answer_all_but_one(page: Page) -> None:
    """Every required question except "network" (so the form comes back with one error)."""
    for question, label in [("new-tools", "Delvis enig"), ("passed-on", "Helt enig"),
                            ("staff-engagement", "Hverken enig eller uenig"),
                            ("judge-technology", "Delvis enig"), ("language", "Helt enig")]:
        page.locator(f"#q-{question}-group").get_by_label(label, exact=True).check()
    choices = page.locator("#q-most-useful-group")
    choices.get_by_label("Webinarerne", exact=True).check()
    choices.get_by_label("Buddyordningen", exact=True).check()
    page.locator("#q-recommend-group").get_by_label("9", exact=True).check()
    page.get_by_label("Hvad har forløbet betydet for din måde at lede på?", exact=False).fill(
        "Jeg inddrager medarbejderne tidligere, når vi afprøver ny teknologi.")


def test_participant_answers_the_final_survey_on_a_phone(browser, live_server, invitation_link,
                                                         artifacts_dir):
    link, survey_id = invitation_link
    context = browser.new_context(locale="da-DK", **PHONE)
    page = context.new_page()
    try:
        page.goto(link)
        expect(page.locator("h1")).to_contain_text("Søren Ærenlund")
        no_sideways_scrolling(page)
        page.screenshot(path=str(artifacts_dir / "participant-phone-1-continue.png"))
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"**/me/surveys/{survey_id}")
        expect(page.locator("h1")).to_have_text("Afsluttende evaluering af forløbet")
        expect(page.locator("html")).to_have_attribute("lang", "da")
        privacy = page.locator("#survey-privacy")
        expect(privacy).to_have_class("privacy anonymous")
        assert privacy.bounding_box()["y"] < page.locator("form.survey").bounding_box()["y"]
        no_sideways_scrolling(page)
        page.screenshot(path=str(artifacts_dir / "participant-phone-2-survey.png"))

        answer_all_but_one(page)
        page.locator("form.survey button[type=submit]").click()
        expect(page.locator("#survey-errors")).to_be_visible()
        expect(page.locator("#q-network-errors")).to_be_visible()
        expect(page.locator("#q-new-tools-group").get_by_label("Delvis enig", exact=True)) \
            .to_be_checked()  # nothing already answered is lost
        page.locator("#q-network-group").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "participant-phone-3-missing-answer.png"))
        page.locator("#q-network-group").get_by_label("Delvis enig", exact=True).check()

        # The same form, open in a second tab, will be sent again after this one.
        second = context.new_page()
        second.goto(page.url)
        answer_all_but_one(second)
        second.locator("#q-network-group").get_by_label("Helt uenig", exact=True).check()

        page.locator("form.survey button[type=submit]").click()
        expect(page.locator("#survey-state")).to_be_visible()
        expect(page.locator("form.survey")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "participant-phone-4-answered.png"),
                        full_page=True)

        second.locator("form.survey button[type=submit]").click()
        expect(second.locator("#survey-state")).to_be_visible()
        second.screenshot(path=str(artifacts_dir / "participant-phone-5-already-answered.png"))
        second.close()

        # Opening the invitation link again leads to the same answer.
        page.goto(link)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"**/me/surveys/{survey_id}")
        expect(page.locator("#survey-state")).to_be_visible()
        page.goto(live_server.url + "/me")
        no_sideways_scrolling(page)
        page.screenshot(path=str(artifacts_dir / "participant-phone-6-page.png"), full_page=True)
    finally:
        context.close()
    with db.transaction(live_server.engine) as session:
        answers = session.scalars(select(AnonymousResponse.answers)).all()
        count = session.scalar(select(func.count()).select_from(AnonymousResponse))
    assert count == 1 and answers[0]["network"] == 4 and answers[0]["most-useful"] == [1, 4]
