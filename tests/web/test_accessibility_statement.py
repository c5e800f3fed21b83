"""The accessibility statement (/accessibility): public, in da/nb/en, with the sections of the
Danish and Norwegian statements, its contact and review date from the settings, and linked
from every page's footer (docs/accessibility.md)."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.web import participant_client, staff_client


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url  # about pages, not storage


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language, headings", [
    ("da", ["Tilgængelighedserklæring", "Omfang", "Overholdelsesstatus", "Kendte afvigelser",
            "Feedback og kontaktoplysninger", "Seneste gennemgang"]),
    ("nb", ["Tilgjengelighetserklæring", "Omfang", "Status for etterlevelse", "Kjente avvik",
            "Tilbakemelding og kontakt", "Siste gjennomgang"]),
    ("en", ["Accessibility statement", "Scope", "Compliance status", "Known deviations",
            "Feedback and contact", "Last review"]),
])
def test_accessibility_statement_is_public_in_three_languages(web_app, language, headings):
    web_app.config["MAIL_FROM"] = "Kursus <kursus@region.example>"
    page = _text(web_app.test_client().get("/accessibility",
                                           headers={"Accept-Language": language}))
    assert f'<html lang="{language}">' in page
    found = re.findall(r"<h[12][^>]*>([^<]+)</h[12]>", page)
    assert found == headings
    assert "WCAG 2.1" in page
    # The contact defaults to the address emails come from.
    assert '<a href="mailto:kursus@region.example">kursus@region.example</a>' in page


def test_accessibility_statement_contact_and_review_date_are_settings(web_app):
    web_app.config["ACCESSIBILITY_CONTACT"] = "tilgaengelighed@region.example"
    web_app.config["ACCESSIBILITY_REVIEWED"] = "2027-01-15"
    page = _text(web_app.test_client().get("/accessibility",
                                           headers={"Accept-Language": "da"}))
    assert "mailto:tilgaengelighed@region.example" in page
    assert "senest gennemgået den 15. januar 2027" in page


def test_settings_read_the_accessibility_variables():
    from cohort.config import ACCESSIBILITY_REVIEWED, settings_from_env

    defaults = settings_from_env("/tmp/instance", {})
    assert defaults["ACCESSIBILITY_CONTACT"] is None  # the view falls back to MAIL_FROM
    assert defaults["ACCESSIBILITY_REVIEWED"] == ACCESSIBILITY_REVIEWED
    chosen = settings_from_env("/tmp/instance", {
        "COHORT_ACCESSIBILITY_CONTACT": "a11y@x.example",
        "COHORT_ACCESSIBILITY_REVIEWED": "2027-02-01"})
    assert chosen["ACCESSIBILITY_CONTACT"] == "a11y@x.example"
    assert chosen["ACCESSIBILITY_REVIEWED"] == "2027-02-01"


def test_every_kind_of_page_links_the_statement_in_its_footer(web_app, staff, cohort_id,
                                                             first_participant):
    footer = re.compile(r'<footer class="site">.*href="/accessibility".*</footer>', re.S)
    anonymous = web_app.test_client()
    assert footer.search(_text(anonymous.get("/login")))
    assert footer.search(anonymous.get("/no-such-page").get_data(as_text=True))
    participant = participant_client(web_app, first_participant)
    assert footer.search(_text(participant.get("/me")))
    owner = staff_client(web_app, staff.owner)
    assert footer.search(_text(owner.get(f"/cohorts/{cohort_id}")))
