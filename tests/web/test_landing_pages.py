"""The staff landing pages (/dashboard, /evaluation) at regional scale: one screen of cohorts a
page, the rest on the next pages, query strings that never fail, and a number of statements
that does not grow with the cohorts a user sees."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import partial

import pytest

from cohort import db
from cohort.models import CohortRole, CohortStaff
from cohort.services.cohort_list import PAGE_SIZE
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import PEOPLE, WEB_NOW, staff_client, visible_text

PAGES = ("/dashboard", "/evaluation")


def _more_cohorts(engine, make_cohort, n: int, staff=()) -> list[int]:
    """n cohorts, a week apart in their starts (some finished, some running, some upcoming),
    the first few with people in them; each user of `staff` is attached to all of them."""
    ids = []
    for i in range(n):
        start = date(2024, 9, 3) + timedelta(weeks=2 * i)
        ids.append(make_cohort(engine, people=PEOPLE if i < 3 else (), start=start,
                               title=f"Region {i:02d}", now=WEB_NOW - timedelta(days=400)).id)
    with db.transaction(engine) as session:
        for user in staff:
            for cohort_id in ids:
                session.add(CohortStaff(cohort_id=cohort_id, user_id=user.id,
                                        role=CohortRole.EVALUATOR
                                        if user.role == "evaluator" else CohortRole.OWNER))
    return ids


def _titles(response) -> list[str]:
    return re.findall(r"<h3><a [^>]*>(Hold 1|Region \d\d)</a></h3>",
                      response.get_data(as_text=True))


_client = partial(staff_client, language="en")


def _statements(engine, client, path: str) -> int:
    with recorded_statements(engine) as seen:
        assert client.get(path).status_code == 200
    return len(seen)


@pytest.mark.parametrize("path", PAGES)
def test_one_screen_a_page_and_the_rest_on_the_next(web_app, staff, engine_of_app, make_cohort,
                                                    path):
    _more_cohorts(engine_of_app, make_cohort, PAGE_SIZE + 4)  # and Hold 1: 25 cohorts
    client = _client(web_app, staff.admin)
    first, second = client.get(path), client.get(path + "?page=2")
    one, two = _titles(first), _titles(second)
    assert len(one) == PAGE_SIZE and len(two) == 5
    assert sorted(one + two) == sorted(["Hold 1"] + [f"Region {i:02d}" for i in range(24)])
    html = first.get_data(as_text=True)
    nav = re.search(r'<nav class="pager" aria-label="Pages of cohorts">.*?</nav>', html, re.S)
    assert nav and 'aria-current="page" aria-label="Page 1 of 2">1</a>' in nav.group(0)
    assert f'href="{path}?page=2" rel="next"' in nav.group(0)
    assert "Cohorts 1–20 of 25" in visible_text(first)
    assert "Cohorts 21–25 of 25" in visible_text(second)
    # Past the end: the last page, marked as the current one.
    last = client.get(path + "?page=7")
    assert last.status_code == 200 and _titles(last) == two
    assert 'aria-current="page" aria-label="Page 2 of 2">2</a>' in last.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_phase_links_and_search_narrow_the_list(web_app, staff, engine_of_app, make_cohort,
                                                path):
    _more_cohorts(engine_of_app, make_cohort, PAGE_SIZE + 4)
    client = _client(web_app, staff.admin)
    page = client.get(path).get_data(as_text=True)
    counts = dict(re.findall(r'href="[^"]*phase=(\w+)"[^>]*>\w+ \((\d+)\)</a>', page))
    assert set(counts) == {"running", "upcoming", "finished"}
    assert sum(map(int, counts.values())) == 25
    finished = client.get(f"{path}?phase=finished")
    assert len(_titles(finished)) == min(PAGE_SIZE, int(counts["finished"]))
    assert re.findall(r'<h2 id="phase-(\w+)">', finished.get_data(as_text=True)) == ["finished"]
    found = client.get(f"{path}?q=region+1")
    assert sorted(_titles(found)) == [f"Region {i}" for i in range(10, 20)]
    nothing = client.get(f"{path}?q=nowhere")
    assert "No cohort's title contains “nowhere”." in visible_text(nothing)
    danish = client.get(f"{path}?q=nowhere", headers={"Accept-Language": "da"})
    assert "Intet hold har »nowhere« i navnet." in visible_text(danish)


@pytest.mark.parametrize("path", PAGES)
def test_junk_in_the_query_string_never_fails(web_app, staff, path):
    client = _client(web_app, staff.admin)
    for query in ("page=abc", "page=-1", "page=0", "page=99999999999999", "page=²",
                  "page=1e3", "phase=bogus", "phase=", "q=%00", "q=%25", "q=_",
                  "q=" + "x" * 5000, "page=2&phase=running&q=Hold"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, query
        assert "Hold 1" in response.get_data(as_text=True) or "q=" in query, query


def test_statements_do_not_grow_from_3_to_30_cohorts(web_app, staff, engine_of_app,
                                                     make_cohort):
    """Facilitators and evaluators of 3 cohorts, then of 30: the same number of statements
    for each landing page (the admin sees every cohort; likewise)."""
    _more_cohorts(engine_of_app, make_cohort, 2, staff=(staff.owner, staff.evaluator))
    users = {"/dashboard": (staff.owner, staff.evaluator, staff.admin),
             "/evaluation": (staff.evaluator, staff.admin)}
    few = {(path, user.email): _statements(engine_of_app, _client(web_app, user), path)
           for path, who in users.items() for user in who}
    _more_cohorts(engine_of_app, make_cohort, 27, staff=(staff.owner, staff.evaluator))
    many = {(path, user.email): _statements(engine_of_app, _client(web_app, user), path)
            for path, who in users.items() for user in who}
    assert many == few
    # The user; the page with its counts per phase; the cards' figures; their groups (the
    # evaluator's page: the response totals instead of the last two). Each statement is a
    # round trip on PostgreSQL (10 on the dashboard before, 4 on the evaluator's page).
    assert max(n for (path, _), n in few.items() if path == "/dashboard") <= 4, few
    assert max(n for (path, _), n in few.items() if path == "/evaluation") <= 3, few
    owner = _client(web_app, staff.owner).get("/dashboard")
    assert len(_titles(owner)) == PAGE_SIZE and "Cohorts 1–20 of 30" in visible_text(owner)


def test_a_page_past_the_end_counts_then_shows_the_last(web_app, staff, engine_of_app,
                                                       make_cohort):
    """The counts ride on the page's rows: a page with no rows (past the end) costs the
    counts and the last page, two statements more than the page itself. (Without kept cards:
    the last page's would be kept from the first view, tests/web/test_page_cache.py.)"""
    web_app.extensions["cohort.page_cache"].entries = 0
    _more_cohorts(engine_of_app, make_cohort, PAGE_SIZE + 4)
    client = _client(web_app, staff.admin)
    first = _statements(engine_of_app, client, "/evaluation?page=2")
    past = _statements(engine_of_app, client, "/evaluation?page=9")
    assert past == first + 2


def test_a_few_cohorts_need_no_controls(web_app, staff):
    page = _client(web_app, staff.owner).get("/dashboard").get_data(as_text=True)
    assert 'aria-label="Cohorts by phase"' not in page and 'class="pager"' not in page
    assert "Hold 1" in page
