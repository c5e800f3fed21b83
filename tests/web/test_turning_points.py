"""The cohort overview, the landing pages' cards and /me's list of meetings and materials,
kept until the clock next changes them
(core/turning_points.py): across minutes while nothing they show passes, rendered again at
the moment something does, and never different from a fresh render at any moment before
their turning point."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import get_template_attribute
from markupsafe import Markup
from sqlalchemy import func, select, update

from cohort import db, services
from cohort.models import Cohort, Meeting, Participant, Survey
from cohort.services.dashboard import cohort_cards, response_totals
from cohort.web.cohorts import render_overview
from cohort.web.participant import meetings_part
from tests.fixtures.web import COHORT_START, PEOPLE, sign_in
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
    first = web_app.config["COHORT_NOW"]
    cohort_id = make_cohort(engine_of_app, people=people, start=COHORT_START, now=first).id
    turns, changed = walk(first, lambda moment: fresh(web_app, cohort_id, moment))
    # The walk passed the cohort's meetings (and emails).
    least_turns, least_changes = (100, 20) if people else (50, 10)
    assert turns >= least_turns and changed >= least_changes, (turns, changed)


@pytest.fixture
def overview(web_app, staff, cohort_id):
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


def walk(first, render):
    """Turning point by turning point from `first` until none is ahead: `render(moment)` gives
    (what a view shows, its turning point); just before each turning point and halfway to it
    the view is what it was. Returns (turns, turns at which the view did change)."""
    moment, turns, changed = first, 0, 0
    while True:
        shown, changes_at = render(moment)
        if changes_at is None:
            assert render(moment + timedelta(days=400))[0] == shown
            return turns, changed
        assert changes_at > moment
        for later in (moment + (changes_at - moment) / 2, changes_at - TINY):
            assert render(later)[0] == shown, (moment, later)
        turns += 1
        changed += render(changes_at)[0] != shown
        moment = changes_at


@pytest.mark.parametrize("people, cancelled", [(PEOPLE, False), ((), False), ((), True)],
                         ids=["participants", "nobody yet", "every meeting cancelled"])
def test_the_cards_are_the_same_until_their_turning_points_all_through_the_cohort(
        web_app, engine_of_app, make_cohort, people, cancelled):
    """The /dashboard card (with its phase: the page's section) and the /evaluation card,
    walked from before the cohort's start to past its end. A cohort whose meetings are all
    cancelled goes by its start date."""
    first = web_app.config["COHORT_NOW"]
    cohort_id = make_cohort(engine_of_app, people=people, start=COHORT_START, now=first).id
    if cancelled:
        with db.transaction(engine_of_app) as session:
            session.execute(update(Meeting).where(Meeting.cohort_id == cohort_id)
                            .values(status="cancelled"))

    def dashboard_card(moment):
        with web_app.test_request_context(), db.read_session(engine_of_app) as session:
            card, = cohort_cards(session, [session.get(Cohort, cohort_id)], moment)
            macro = get_template_attribute("cohorts/_card.html", "dashboard_card")
            return (card.phase, Markup(macro(card, True, {}))), card.changes_at

    def evaluation_card(moment):
        with web_app.test_request_context(), db.read_session(engine_of_app) as session:
            figures = response_totals(session, [cohort_id], moment)[cohort_id]
            macro = get_template_attribute("cohorts/_card.html", "evaluation_card")
            return Markup(macro(session.get(Cohort, cohort_id), figures)), figures.changes_at

    turns, changed = walk(first, dashboard_card)
    least = 1 if cancelled else 6  # the start date; or the first start and each meeting end
    assert turns >= least and changed >= least, (turns, changed)
    turns, changed = walk(first, evaluation_card)
    assert turns >= 3 and changed >= 3, (turns, changed)  # each survey's opening


@pytest.mark.parametrize("who, path", [("owner", "/dashboard"), ("evaluator", "/evaluation")])
def test_landing_pages_keep_their_cards_across_minutes_until_a_turning_point(
        web_app, staff, engine_of_app, cohort_id, who, path):
    """Two minutes on, the page reads only the user and the page; at the first meeting's start
    (the dashboard card turns running) or the first survey's opening (the evaluation card
    counts it) the card is counted again."""
    client = web_app.test_client()
    sign_in(client, getattr(staff, who))
    assert len(statements_of(web_app, client, path)[0]) > 2
    web_app.config["COHORT_NOW"] += timedelta(minutes=2)
    assert len(statements_of(web_app, client, path)[0]) == 2
    with db.read_session(engine_of_app) as session:
        turn = session.scalar(select(func.min(Meeting.starts_at if who == "owner"
                                              else Survey.opens_at)))
    web_app.config["COHORT_NOW"] = turn - TINY
    assert len(statements_of(web_app, client, path)[0]) == 2
    web_app.config["COHORT_NOW"] = turn
    assert len(statements_of(web_app, client, path)[0]) > 2


def test_the_participants_meetings_are_the_same_until_a_meeting_ends(
        web_app, engine_of_app, first_participant, cohort_id):
    """/me's list of meetings and materials (the same for every participant of the cohort),
    walked through the cohort, with materials shown at once and after their meeting."""
    first = web_app.config["COHORT_NOW"]
    with db.transaction(engine_of_app) as session:
        for key, after in (("kickoff", False), ("kickoff", True), ("webinar-1", True)):
            services.materials.add_link(session, cohort_id, key, f"{key} {after}",
                                        "https://example.org/m", after, None, now=first)

    def meetings(moment):
        with web_app.test_request_context(headers={"Accept-Language": "en"}), \
                db.read_session(engine_of_app) as session:
            data = services.participant_page(
                session, session.get(Participant, first_participant.id), moment)
            return meetings_part(session, data, moment)

    turns, changed = walk(first, meetings)
    assert turns >= 6 and changed >= 6, (turns, changed)  # each meeting's end
