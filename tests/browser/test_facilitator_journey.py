"""A facilitator's whole journey in a real browser, once in Danish and once in English:
log in, create a cohort from digital-lederskab, upload a CSV with a bad row and fix it,
reschedule webinar 2 by a week and see its tasks move.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from cohort import db
from cohort.services import accounts

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "browser journey password"
BAD_CSV = ("navn;e-mail;organisation;rolle;sprog\n"
           "Anne Jensen;anne@vejle.example;Vejle Kommune;Leder, hjemmeplejen;da\n"
           "Bo Holm;bo-at-kolding.example;Kolding Kommune;Leder, sygeplejen;da\n"
           "Cecilie Dahl;cecilie@odense.example;Odense Kommune;Centerleder;da\n")
GOOD_CSV = BAD_CSV.replace("bo-at-kolding", "bo@kolding")

WORDS = {
    "da": dict(email="E-mail", password="Adgangskode", log_in="Log ind", my_cohorts="Mine hold",
               new_cohort="Nyt hold", preview="Vis de planlagte datoer",
               planned="Planlagte datoer", create="Opret holdet", file="Excel- eller CSV-fil",
               upload="Upload", row_error="Række 3, kolonne e-mail",
               added="3 deltagere blev tilføjet.", plan="Plan",
               reschedule="Flyt Webinar 2", new_date="Ny dato",
               preview_changes="Se ændringerne", moves="Det, der flyttes",
               confirm="Bekræft det nye tidspunkt", moved="Webinar 2 blev flyttet"),
    "en": dict(email="Email", password="Password", log_in="Log in", my_cohorts="My cohorts",
               new_cohort="New cohort", preview="Show the planned dates",
               planned="Planned dates", create="Create the cohort", file="Excel or CSV file",
               upload="Upload", row_error="Row 3, column email",
               added="3 participants were added.", plan="Plan",
               reschedule="Reschedule Webinar 2", new_date="New date",
               preview_changes="Preview the changes", moves="What moves",
               confirm="Confirm the new time", moved="Webinar 2 was moved"),
}


def _when(page: Page, key: str, which: str) -> datetime:
    """A plan item's start (`at`) or due date (`until`) from its <time datetime=...>."""
    item = page.locator(f'li.item[data-key="{key}"]')
    selector = "time.until" if which == "until" else "time:not(.until)"
    return datetime.fromisoformat(item.locator(selector).get_attribute("datetime"))


@pytest.mark.parametrize("locale", ["da", "en"])
def test_facilitator_journey(browser, live_server, artifacts_dir, tmp_path, locale):
    words = WORDS[locale]
    with db.transaction(live_server.engine) as session:
        accounts.create_user(session, "facilitator@cohort.example", "facilitator", PASSWORD,
                             name="Frida Facilitator")
    bad, good = tmp_path / "deltagere.csv", tmp_path / "deltagere-rettet.csv"
    bad.write_text("\ufeff" + BAD_CSV, encoding="utf-8")
    good.write_text("\ufeff" + GOOD_CSV, encoding="utf-8")
    context = browser.new_context(locale={"da": "da-DK", "en": "en-GB"}[locale],
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    shot = lambda name: page.screenshot(  # noqa: E731
        path=str(artifacts_dir / f"journey-{locale}-{name}.png"), full_page=True)
    try:
        # Log in: the landing page sends an anonymous visitor to the login form.
        page.goto(live_server.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", locale)
        expect(page.get_by_role("heading", name=words["log_in"])).to_be_visible()
        page.get_by_label(words["email"], exact=True).fill("facilitator@cohort.example")
        page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        shot("01-login")
        page.get_by_role("button", name=words["log_in"]).click()
        expect(page.get_by_role("heading", name=words["my_cohorts"])).to_be_visible()

        # Create a cohort from digital-lederskab: preview the dates first, then create.
        page.get_by_role("navigation").get_by_role("link", name=words["new_cohort"]).click()
        page.locator("#programme").select_option("digital-lederskab")
        page.locator("#title").fill(f"Browserhold {locale}")
        page.get_by_role("button", name=words["preview"]).first.click()
        expect(page.get_by_role("heading", name=words["planned"])).to_be_visible()
        expect(page.locator(".meeting-row")).to_have_count(7)
        shot("02-new-cohort-preview")
        page.get_by_role("button", name=words["create"]).click()

        # Upload a CSV with one bad row: every problem listed, nothing imported.
        page.get_by_label(words["file"], exact=True).set_input_files(str(bad))
        page.get_by_role("button", name=words["upload"]).click()
        errors = page.locator("#import-errors")
        expect(errors).to_contain_text(words["row_error"])
        expect(errors).to_contain_text("bo-at-kolding.example")
        expect(page.locator("table.people")).to_have_count(0)
        shot("03-csv-error")
        page.get_by_label(words["file"], exact=True).set_input_files(str(good))
        page.get_by_role("button", name=words["upload"]).click()
        expect(page.locator(".flash.success")).to_contain_text(words["added"])
        expect(page.locator("table.people tbody tr")).to_have_count(3)
        shot("04-participants")

        # The plan before: what hangs on webinar 2.
        page.locator("nav.tabs").get_by_role("link", name=words["plan"], exact=True).click()
        due_before = _when(page, "questions@webinar-1", "until")
        released_before = _when(page, "case-work@webinar-2", "at")

        # Reschedule webinar 2 by a week: preview, then confirm.
        page.get_by_role("link", name=words["reschedule"]).first.click()
        day_input = page.get_by_label(words["new_date"], exact=True)
        current = date.fromisoformat(day_input.input_value())
        day_input.fill((current + timedelta(days=7)).isoformat())
        page.get_by_role("button", name=words["preview_changes"]).click()
        expect(page.get_by_role("heading", name=words["moves"])).to_be_visible()
        expect(page.locator('tr[data-key="case-work@webinar-2"]').first).to_be_visible()
        shot("05-reschedule-preview")
        page.get_by_role("button", name=words["confirm"]).click()
        expect(page.locator(".flash.success")).to_contain_text(words["moved"])
        assert _when(page, "questions@webinar-1", "until") - due_before == timedelta(days=7)
        assert _when(page, "case-work@webinar-2", "at") - released_before == timedelta(days=7)
        shot("06-plan-after")

        page.locator("nav.tabs a").first.click()
        expect(page.locator("ul.activity")).to_contain_text("Webinar 2")
        shot("07-dashboard")
    finally:
        context.close()
