"""Every page each kind of visitor can open is valid HTML in standards mode, and every link on
it leads somewhere that visitor may go.

The pages are the authorisation matrix's routes (tests/web/test_access.py) that answer a GET
with a page for the identity, plus the 404 page.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest

from tests.web.test_access import (
    EXPECTED,
    IDENTITIES,
    OK,
    _outcome,
    client_as,
    matrix_setup,
    matrix_urls,
)


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url  # about pages, not storage


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id") is not None:
            self.ids.append(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def _html_pages(web_app, staff, cohort_id, first_participant):
    """(identity, client, url, response) for every page an identity may GET, and the 404."""
    values = matrix_setup(web_app, staff, cohort_id, first_participant)
    for identity in IDENTITIES:
        client = client_as(web_app, identity, staff, first_participant)
        urls = [url for endpoint, url, methods in matrix_urls(web_app, values)
                if "GET" in methods and EXPECTED[endpoint][identity] == OK]
        for url in [*urls, "/no-such-page"]:
            with client.get(url) as response:
                if response.mimetype == "text/html" and response.status_code in (200, 404):
                    yield identity, client, url, response.get_data(as_text=True)


def test_every_page_is_valid_and_links_only_where_its_reader_may_go(
        web_app, staff, cohort_id, first_participant):
    """Standards mode (`<!doctype html>` first), no repeated id, and no link (tab, breadcrumb,
    shortcut) that answers its reader with 403 or the login page."""
    problems, seen, checked = [], 0, {}
    for identity, client, url, text in _html_pages(web_app, staff, cohort_id,
                                                   first_participant):
        seen += 1
        if not text.startswith("<!doctype html>"):
            problems.append(f"{url} as {identity}: starts with {text[:40]!r}")
        page = _Page()
        page.feed(text)
        duplicates = sorted(i for i, n in Counter(page.ids).items() if n > 1)
        if duplicates:
            problems.append(f"{url} as {identity}: duplicate ids {duplicates}")
        for link in page.links:
            target = urlparse(link)
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue  # mailto:, other sites, in-page anchors
            key = (identity, link)
            if key not in checked:
                with client.get(link) as answer:
                    checked[key] = _outcome(answer)
            if checked[key] != OK:
                problems.append(f"{url} as {identity} links to {link}: {checked[key]}")
    assert seen > 80  # every role's pages were looked at
    assert len(checked) > 200
    assert problems == [], "\n".join(problems)


def test_the_reschedule_preview_repeats_no_id(web_app, staff, cohort_id):
    """The preview state only appears after a POST, which the GET walk above never makes."""
    web_app.config["WTF_CSRF_ENABLED"] = False
    client = client_as(web_app, "facilitator_owner", staff, None)
    response = client.post(f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule",
                           data={"day": "2025-06-19", "clock": "13:00", "location": "",
                                 "online_url": "", "preview": "1"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.startswith("<!doctype html>")
    page = _Page()
    page.feed(text)
    assert [i for i, n in Counter(page.ids).items() if n > 1] == []
    assert "preview-heading" in page.ids  # the preview was shown
