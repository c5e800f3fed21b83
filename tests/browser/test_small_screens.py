"""Usable on a phone and at 200 % zoom: no page needs sideways scrolling, focus is visible."""

from __future__ import annotations

from datetime import date

import pytest

from cohort import db
from cohort.demo import demo_participants
from cohort.services import accounts
from tests.fixtures.browser import log_in

pytestmark = pytest.mark.slow  # a real browser or calendar program per test

PASSWORD = "small screen password"


@pytest.fixture
def demo(live_server, make_cohort):
    cohort = make_cohort(live_server.engine, people=demo_participants(12),
                         start=date(2030, 4, 9), title="Telefonhold", now=None)
    with db.transaction(live_server.engine) as session:
        user = accounts.create_user(session, "phone@cohort.example", "admin", PASSWORD)
        accounts.add_cohort_staff(session, cohort.id, user)
        return cohort.id


# A phone (360 CSS px) and a 1280 px window at 200 % zoom (640 CSS px).
@pytest.mark.parametrize("width, scale", [(360, 3), (640, 2)])
def test_no_sideways_scrolling(browser, live_server, demo, artifacts_dir, width, scale):
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 800},
                                  device_scale_factor=scale)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "phone@cohort.example", PASSWORD)
        for path in ["/dashboard", f"/cohorts/{demo}", f"/cohorts/{demo}/launch",
                     f"/cohorts/{demo}/plan",
                     f"/cohorts/{demo}/participants/", "/cohorts/new", "/programmes/",
                     "/programmes/digital-lederskab",
                     f"/cohorts/{demo}/meetings/webinar-2/reschedule", "/admin/users",
                     f"/cohorts/{demo}/attendance", f"/cohorts/{demo}/attendance/kickoff",
                     f"/cohorts/{demo}/attendance/workshop-1/code",
                     f"/cohorts/{demo}/attendance/kickoff/import",
                     f"/cohorts/{demo}/evaluation", "/evaluation",
                     f"/cohorts/{demo}/evaluation/surveys/self-assessment-pre?by=organisation",
                     f"/cohorts/{demo}/evaluation/notes/new/final-interview",
                     f"/cohorts/{demo}/evaluation/quotes"]:
            page.goto(live_server.url + path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
        page.goto(live_server.url + f"/cohorts/{demo}")
        page.screenshot(path=str(artifacts_dir / f"small-{width}px-cohort.png"), full_page=True)
        # Keyboard users see where they are: the first Tab stop is the skip link, outlined.
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.className,"
                                " getComputedStyle(document.activeElement).outlineStyle]")
        assert focused == ["skip", "solid"]
    finally:
        context.close()
