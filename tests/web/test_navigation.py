"""Finding one's way: the cohort's tabs (groups, the evaluation report), the evaluator's way
to the report, grouping titles on the overview, and breadcrumbs that lead only where the
reader may go (tests/web/test_pages.py checks every link of every page)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, update

from cohort import db
from cohort.models import Delivery, Group, GroupMember, Participant
from tests.fixtures.web import PEOPLE, WEB_NOW, staff_client


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url  # about pages, not storage


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _tabs(page: str, label: str) -> list[str]:
    nav = re.search(rf'<nav class="tabs" aria-label="{label}">(.*?)</nav>', page, re.S)
    assert nav, f"no {label} tabs"
    return re.findall(r'<a href="([^"]+)"', nav.group(1))


def test_cohort_tabs_have_groups_and_the_report(web_app, staff, cohort_id):
    client = staff_client(web_app, staff.owner)
    page = _text(client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "da"}))
    tabs = _tabs(page, "Hold")
    assert f"/cohorts/{cohort_id}/groups" in tabs
    assert f"/cohorts/{cohort_id}/report" in tabs
    assert ">Grupper</a>" in page and ">Rapport</a>" in page
    # The report page itself carries the tabs, its own marked as the current page.
    report = _text(client.get(f"/cohorts/{cohort_id}/report"))
    assert f'<a href="/cohorts/{cohort_id}/report" aria-current="page">' in report


def test_the_staff_tab_is_the_owners_and_the_admins(web_app, staff, cohort_id,
                                                   engine_of_app):
    """Decided from the link the page's access check read (web/access.checked_cohort_role):
    owners and admins get the tab, a co-facilitator does not."""
    from cohort.models import CohortRole, CohortStaff

    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=staff.other.id,
                                role=CohortRole.CO_FACILITATOR))
    tab = f"/cohorts/{cohort_id}/staff"
    for user, shown in ((staff.owner, True), (staff.admin, True), (staff.other, False)):
        client = staff_client(web_app, user)
        for path in (f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/plan"):
            tabs = _tabs(_text(client.get(path, headers={"Accept-Language": "en"})), "Cohort")
            assert (tab in tabs) is shown, (user.email, path)


def test_evaluator_reaches_the_report_from_the_dashboard_and_the_evaluation_tabs(
        web_app, staff, cohort_id):
    client = staff_client(web_app, staff.evaluator)
    report = f"/cohorts/{cohort_id}/report"
    assert f'href="{report}"' in _text(client.get("/dashboard"))
    assert f'href="{report}"' in _text(client.get("/evaluation"))
    overview = _text(client.get(f"/cohorts/{cohort_id}/evaluation",
                                headers={"Accept-Language": "da"}))
    assert report in _tabs(overview, "Evaluering")
    page = _text(client.get(report))
    assert report in _tabs(page, "Evaluering")
    assert f"/cohorts/{cohort_id}\"" not in page  # no tab to the overview it may not open


def test_evaluation_breadcrumb_leads_each_role_where_it_may_go(web_app, staff, cohort_id):
    crumb = re.compile(r'<p class="meta"><a href="([^"]+)">([^<]+)</a></p>\s*<h1>')
    for user, want in ((staff.evaluator, "/evaluation"),
                       (staff.owner, f"/cohorts/{cohort_id}")):
        client = staff_client(web_app, user)
        page = _text(client.get(f"/cohorts/{cohort_id}/evaluation"))
        href, _label = crumb.search(page).groups()
        assert href == want
        assert client.get(href).status_code == 200


def test_overview_and_removal_name_groupings_by_their_title(web_app, staff, cohort_id):
    engine = web_app.extensions["cohort.engine"]
    with db.transaction(engine) as session:
        person = session.scalars(select(Participant).where(
            Participant.cohort_id == cohort_id)).first()
        group = Group(cohort_id=cohort_id, grouping_key="buddies", number=1)
        session.add(group)
        session.flush()
        session.add(GroupMember(group_id=group.id, participant_id=person.id))
        person_id = person.id
    client = staff_client(web_app, staff.owner)
    page = _text(client.get(f"/cohorts/{cohort_id}", headers={"Accept-Language": "da"}))
    section = page[page.index('id="groups-h"'):page.index('id="attendance-h"')]
    assert "<strong>Buddyordning</strong>" in section
    assert "buddies" not in section
    remove = _text(client.get(f"/cohorts/{cohort_id}/participants/{person_id}/remove",
                              headers={"Accept-Language": "da"}))
    assert "er med i en gruppe (Buddyordning)" in remove


def test_dashboard_groups_cards_by_phase_with_figures_and_alerts(web_app, staff, cohort_id,
                                                                 engine_of_app, make_cohort):
    """Admins see every cohort: a finished one too, and the running one's failed email."""
    make_cohort(engine_of_app, people=PEOPLE, start=date(WEB_NOW.year - 2, 1, 6),
                title="Old cohort", now=WEB_NOW.replace(year=WEB_NOW.year - 3))
    with db.transaction(engine_of_app) as session:
        first = session.scalars(select(Delivery.id).where(Delivery.cohort_id == cohort_id)
                                .limit(1)).one()
        session.execute(update(Delivery).where(Delivery.id == first).values(state="failed"))
    client = staff_client(web_app, staff.admin)
    page = _text(client.get("/dashboard", headers={"Accept-Language": "en"}))
    headings = re.findall(r'<h2 id="phase-(\w+)">', page)
    assert headings == sorted(headings, key=["running", "upcoming", "finished"].index)
    assert "finished" in headings and len(headings) == 2
    assert page.index("Hold 1") < page.index("Old cohort")
    assert f"{len(PEOPLE)} participants" in page and "meetings held" in page
    assert "1 email could not be sent" in page
    assert f'href="/cohorts/{cohort_id}/outbox"' in page
