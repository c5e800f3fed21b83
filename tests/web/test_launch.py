"""A draft cohort's overview, launch page and launch (who may open them: the access matrix)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.models import ActivityEntry, Cohort, CohortRole, CohortStaff
from tests.fixtures.web import COHORT_START, PEOPLE, WEB_NOW, staff_client

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def draft_id(web_app, staff, make_cohort) -> int:
    """A draft made by the owner as the New cohort page makes it, with three participants."""
    return make_cohort(web_app.extensions["cohort.engine"], people=PEOPLE, start=COHORT_START,
                       title="Hold 2", now=WEB_NOW, created_by=staff.owner, launched=False).id


def kinds_in(html: str, table: str) -> dict[str, int]:
    """data-kind -> emails of the launch page's table."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return {kind: int(count) for kind, count in re.findall(
        r'data-kind="([a-z_]+)"><td>[^<]*</td><td class="figure">(\d+)</td>', body)}


def test_overview_of_a_draft_has_the_banner_and_the_launch_button(web_app, staff, draft_id,
                                                                    cohort_id):
    client = staff_client(web_app, staff.owner)
    html = client.get(f"/cohorts/{draft_id}").get_data(as_text=True)
    assert 'data-state="draft"' in html and f'href="/cohorts/{draft_id}/launch"' in html
    board = client.get("/dashboard").get_data(as_text=True)
    assert board.count('data-state="draft"') == 1  # the draft, not the launched cohort
    # Every page of a draft says so, where the facilitator imports people after creating it.
    people = client.get(f"/cohorts/{draft_id}/participants/").get_data(as_text=True)
    assert 'data-state="draft"' in people and "intet sendes, mens holdet er en kladde" in people
    assert 'data-state="draft"' not in client.get(f"/cohorts/{cohort_id}/participants/") \
        .get_data(as_text=True)
    outbox = client.get(f"/cohorts/{draft_id}/outbox").get_data(as_text=True)
    assert f'href="/cohorts/{draft_id}/launch"' in outbox
    # The fixture's cohort is launched and says so, with no launch button.
    launched = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert 'data-state="launched"' in launched and "/launch" not in launched


def test_launch_page_shows_the_forecast_and_launches_on_confirmation(web_app, staff, draft_id):
    client = staff_client(web_app, staff.owner)
    page = f"/cohorts/{draft_id}/launch"
    html = client.get(page).get_data(as_text=True)
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        forecast = services.launch_forecast(session, draft_id, WEB_NOW,
                                            overdue_limit=timedelta(
            hours=web_app.config["OUTBOX_OVERDUE_LIMIT_HOURS"]))
    assert kinds_in(html, "launch-sending") == {k.kind: k.emails for k in forecast.sending}
    assert kinds_in(html, "launch-sending") == {"welcome": 3, "meeting_invitation": 21}
    assert 'id="launch-skipped"' not in html  # nothing is overdue a month before the start

    assert client.post(page, data={}).status_code == 400  # no CSRF token: nothing happens
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        assert session.get(Cohort, draft_id).state == "draft"

    token = CSRF.search(html).group(1)
    done = client.post(page, data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cohorts/{draft_id}")
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        cohort = session.get(Cohort, draft_id)
        entry = session.scalars(select(ActivityEntry).where(
            ActivityEntry.cohort_id == draft_id, ActivityEntry.action == "cohort_launched")).one()
    assert (cohort.state, cohort.launched_at) == ("launched", WEB_NOW)
    assert (entry.actor, entry.details) == ("owner@cohort.example",
                                            {"sending": 24, "skipped": 0, "recipients": 3})
    overview = client.get(f"/cohorts/{draft_id}").get_data(as_text=True)
    assert 'data-state="launched"' in overview and "Holdet er sat i gang" in overview
    activity = client.get(f"/cohorts/{draft_id}/activity").get_data(as_text=True)
    assert "satte holdet i gang: 24 mails de næste 14 dage, 0 forsinkede sprunget over" in activity

    # A second launch changes nothing; the page says it was launched.
    again = client.post(page, data={"csrf_token": token}, follow_redirects=True)
    assert again.status_code == 200
    assert 'id="launch-sending"' not in client.get(page).get_data(as_text=True)
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        assert session.get(Cohort, draft_id).launched_at == WEB_NOW


def test_launching_an_unknown_cohort_is_404(web_app, staff, draft_id):
    client = staff_client(web_app, staff.admin)
    assert client.get(f"/cohorts/{draft_id + 100}/launch").status_code == 404


def test_a_co_facilitator_may_launch(web_app, staff, draft_id):
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        session.add(CohortStaff(cohort_id=draft_id, user_id=staff.other.id,
                                role=CohortRole.CO_FACILITATOR))
    client = staff_client(web_app, staff.other)
    page = f"/cohorts/{draft_id}/launch"
    token = CSRF.search(client.get(page).get_data(as_text=True)).group(1)
    assert client.post(page, data={"csrf_token": token}).status_code == 302
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        assert session.get(Cohort, draft_id).state == "launched"
