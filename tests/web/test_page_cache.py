"""The cohort overview kept per cohort revision (web/page_cache.py): a repeat view reads only
the access check and the counter; any write, from this worker or another process, shows on the
next view; each language has its own copy (and the overview lasts until the clock changes it:
test_turning_points.py); what depends on the viewer (tabs, CSRF tokens, flash
messages) is rendered per request around the kept part."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from cohort import db, services
from cohort.models import CohortRole, CohortStaff
from cohort.services.activity import PARTICIPANTS_IMPORTED
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import COHORT_START, PEOPLE, WEB_NOW, sign_in, staff_client

ENGLISH = {"Accept-Language": "en"}
CSRF_TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"')


def masked(page: str) -> str:
    """The page without its CSRF tokens, which are signed with the second they were made."""
    return CSRF_TOKEN.sub(r'\1…"', page)


@pytest.fixture
def overview(web_app, staff, cohort_id):
    return staff_client(web_app, staff.owner), f"/cohorts/{cohort_id}"


def statements_of(web_app, client, path: str, **kwargs) -> tuple[list[str], str]:
    with recorded_statements(web_app.extensions["cohort.engine"]) as seen:
        response = client.get(path, **kwargs)
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


def test_a_repeat_view_reads_only_the_access_check_and_the_revision(web_app, overview):
    client, path = overview
    first, page = statements_of(web_app, client, path)
    again, same = statements_of(web_app, client, path)
    assert len(first) > 10
    # The user; the cohort's existence, revision and the user's link to it.
    assert len(again) == 2 and "cohort_revision" in again[-1]
    assert masked(same) == masked(page)


def test_writes_from_anywhere_show_on_the_next_view(web_app, overview, database_url,
                                                    cohort_id):
    """A second engine stands for another worker, the CLI or psql: no signal reaches this
    worker but the counter in the database."""
    client, path = overview
    assert "Kickoff renamed" not in statements_of(web_app, client, path)[1]
    elsewhere = db.make_engine(database_url)
    try:
        with elsewhere.begin() as connection:
            connection.execute(text("UPDATE meeting SET title = 'Kickoff renamed' "
                                    "WHERE cohort_id = :id AND key = 'kickoff'"),
                               {"id": cohort_id})
        assert "Kickoff renamed" in statements_of(web_app, client, path)[1]
        with db.transaction(elsewhere) as session:
            services.activity.log_activity(session, cohort_id, None, PARTICIPANTS_IMPORTED,
                                           {"count": 3}, now=web_app.config["COHORT_NOW"])
    finally:
        elsewhere.dispose()
    statements, page = statements_of(web_app, client, path)
    assert len(statements) > 10  # rendered again for the new revision


def test_each_language_has_its_own_copy(web_app, overview):
    client, path = overview
    _, danish = statements_of(web_app, client, path, headers={"Accept-Language": "da"})
    statements, english = statements_of(web_app, client, path,
                                        headers={"Accept-Language": "en"})
    assert len(statements) > 10 and "Shortcuts" in english and "Shortcuts" not in danish
    again, _ = statements_of(web_app, client, path, headers={"Accept-Language": "en"})
    assert len(again) == 2


def test_what_depends_on_the_viewer_is_not_kept(web_app, staff, engine_of_app, cohort_id):
    """The owner sees the Staff tab, a co-facilitator does not; each page carries its own
    session's CSRF token and its own flash message."""
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=staff.other.id,
                                role=CohortRole.CO_FACILITATOR))
    path = f"/cohorts/{cohort_id}"
    owner, colleague = web_app.test_client(), web_app.test_client()
    sign_in(owner, staff.owner)
    sign_in(colleague, staff.other)
    owner_page = owner.get(path).get_data(as_text=True)
    with colleague.session_transaction() as session:
        session["_flashes"] = [("success", "Only for the colleague")]
    colleague_statements, colleague_page = statements_of(web_app, colleague, path)
    assert len(colleague_statements) == 2  # the owner's view rendered the kept part
    staff_tab = f'href="/cohorts/{cohort_id}/staff"'
    assert staff_tab in owner_page and staff_tab not in colleague_page
    assert "Only for the colleague" in colleague_page
    assert "Only for the colleague" not in owner.get(path).get_data(as_text=True)
    token = 'name="csrf_token" value="'

    def tokens(page: str) -> set[str]:
        return {part.split('"', 1)[0] for part in page.split(token)[1:]}

    assert tokens(owner_page) and tokens(colleague_page)
    assert not tokens(owner_page) & tokens(colleague_page)


def test_no_copies_are_kept_when_switched_off(web_app, overview):
    web_app.extensions["cohort.page_cache"].entries = 0
    client, path = overview
    statements_of(web_app, client, path)
    again, _ = statements_of(web_app, client, path)
    assert len(again) > 10


def test_dashboard_cards_are_kept_per_cohort_and_only_changed_ones_counted_again(
        web_app, staff, engine_of_app, make_cohort, cohort_id):
    """The cards of a page: a repeat view reads the user and the page (with each cohort's
    revision); after a write to one cohort only its card is counted again, and shows it."""
    other = make_cohort(engine_of_app, people=PEOPLE, start=COHORT_START, title="Hold 2",
                        now=WEB_NOW).id
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=other, user_id=staff.owner.id, role=CohortRole.OWNER))
    client = staff_client(web_app, staff.owner)
    first, page = statements_of(web_app, client, "/dashboard", headers=ENGLISH)
    again, same = statements_of(web_app, client, "/dashboard", headers=ENGLISH)
    assert len(again) == 2 < len(first) and masked(same) == masked(page)
    assert page.count(f"{len(PEOPLE)} participants") == 2
    with engine_of_app.begin() as connection:
        connection.execute(text("UPDATE participant SET erased_at = created_at "
                                "WHERE id = (SELECT min(id) FROM participant "
                                "WHERE cohort_id = :id)"), {"id": other})
    kept = web_app.extensions["cohort.page_cache"]
    made_before = kept.misses
    changed, page = statements_of(web_app, client, "/dashboard", headers=ENGLISH)
    assert len(changed) > 2
    assert kept.misses == made_before + 1  # the changed cohort's card only
    assert page.count(f"{len(PEOPLE)} participants") == 1
    assert f"{len(PEOPLE) - 1} participants" in page


def test_the_evaluators_cards_are_kept_until_the_cohort_changes(web_app, staff, engine_of_app,
                                                                 cohort_id):
    client = staff_client(web_app, staff.evaluator)
    first, page = statements_of(web_app, client, "/evaluation", headers=ENGLISH)
    again, same = statements_of(web_app, client, "/evaluation", headers=ENGLISH)
    assert len(again) == 2 < len(first) and masked(same) == masked(page) and "Hold 1" in page
    with engine_of_app.begin() as connection:
        connection.execute(text("UPDATE cohort SET title = 'Hold 1 (spring)' WHERE id = :id"),
                           {"id": cohort_id})
    changed, page = statements_of(web_app, client, "/evaluation", headers=ENGLISH)
    assert len(changed) == len(first) and "Hold 1 (spring)" in page
