"""The cohort overview kept until the clock next changes it (core/turning_points.py): across
minutes while nothing it shows passes, rendered again at the moment something does, and
never different from a fresh render at any moment before its turning point."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cohort.web.cohorts import render_overview
from tests.fixtures.web import COHORT_START, PEOPLE
from tests.web.test_page_cache import masked, statements_of

TINY = timedelta(microseconds=1)


def fresh(web_app, cohort_id: int, moment):
    """The overview as a view at `moment` renders it, and its turning point."""
    with web_app.test_request_context(headers={"Accept-Language": "en"}):
        part, changes_at = render_overview(cohort_id, moment)
    return masked(part.heading + part.body), changes_at


@pytest.mark.parametrize("people", [PEOPLE, ()], ids=["participants", "nobody yet"])
def test_the_overview_is_the_same_until_its_turning_point_all_through_the_cohort(
        web_app, engine_of_app, make_cohort, people):
    """Walk the cohort from before its start to past its end, turning point by turning point:
    just before each one and halfway to it the overview is what it was when rendered; every
    meeting ending, email falling due and survey opening is one of them. Without
    participants there are no emails, and the surveys' opening times must turn it alone."""
    moment = web_app.config["COHORT_NOW"]
    cohort_id = make_cohort(engine_of_app, people=people, start=COHORT_START, now=moment).id
    turns = changed = 0
    while True:
        page, changes_at = fresh(web_app, cohort_id, moment)
        if changes_at is None:
            break
        assert changes_at > moment
        for later in (moment + (changes_at - moment) / 2, changes_at - TINY):
            assert fresh(web_app, cohort_id, later)[0] == page, (moment, later)
        turns += 1
        changed += fresh(web_app, cohort_id, changes_at)[0] != page
        moment = changes_at
    # The walk passed the cohort's meetings (and emails).
    least_turns, least_changes = (100, 20) if people else (50, 10)
    assert turns >= least_turns and changed >= least_changes, (turns, changed)
    # After the last turning point nothing changes with the clock any more.
    assert fresh(web_app, cohort_id, moment + timedelta(days=400))[0] == page


@pytest.fixture
def overview(web_app, staff, cohort_id):
    from tests.fixtures.web import sign_in

    client = web_app.test_client()
    sign_in(client, staff.owner)
    return client, f"/cohorts/{cohort_id}"


def test_a_kept_overview_lasts_across_minutes_until_its_turning_point(web_app, overview,
                                                                      cohort_id):
    client, path = overview
    first, _ = statements_of(web_app, client, path)
    assert len(first) > 10
    _, changes_at = fresh(web_app, cohort_id, web_app.config["COHORT_NOW"])
    assert changes_at - web_app.config["COHORT_NOW"] > timedelta(minutes=2)
    web_app.config["COHORT_NOW"] += timedelta(minutes=2)
    assert len(statements_of(web_app, client, path)[0]) == 2  # kept across minutes
    web_app.config["COHORT_NOW"] = changes_at - TINY
    assert len(statements_of(web_app, client, path)[0]) == 2
    web_app.config["COHORT_NOW"] = changes_at
    assert len(statements_of(web_app, client, path)[0]) > 10  # rendered again at the turn
