"""The landing pages' list of cohorts (services/cohort_list.py): phases and order made in SQL
agree with the cards, pages cover every cohort once, filters, and what each user may see."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from cohort import db
from cohort.models import Cohort, CohortRole, CohortStaff, Meeting, Role, User
from cohort.services.accounts import visible_cohort_ids
from cohort.services.cohort_list import (
    FINISHED,
    RUNNING,
    UPCOMING,
    ListFilters,
    by_phase,
    cohort_page,
    parse_filters,
    parse_page,
)
from cohort.services.dashboard import cohort_cards
from tests.services.test_dashboard_cards import NOW, STARTS, _cohorts

ADMIN = User(id=0, email="admin@cohort.example", role=Role.ADMIN, password_hash="-")
EVERYTHING = ListFilters()


def _page(engine, user=ADMIN, filters=EVERYTHING, page=1, size=2):
    with db.transaction(engine) as session:
        return cohort_page(session, visible_cohort_ids(user), NOW, filters, page, size)


def test_pages_hold_every_cohort_once_in_the_cards_order(engine, make_cohort):
    ids = _cohorts(engine, make_cohort)
    with db.transaction(engine) as session:
        # One cohort with every meeting cancelled goes by its start date (in the future here).
        session.execute(update(Meeting).where(Meeting.cohort_id == ids["later"])
                        .values(status="cancelled"))
        cards = cohort_cards(session, session.scalars(select(Cohort)).all(), NOW)
    pages = [_page(engine, page=n) for n in (1, 2, 3)]
    assert [p.number for p in pages] == [1, 2, 3] and {p.pages for p in pages} == {3}
    listed = [c.title for p in pages for c in p.cohorts]
    assert listed == [card.cohort.title for card in cards]
    assert listed == ["running", "later", "soon", "finished", "old"]  # no meetings: first
    assert pages[0].counts == {RUNNING: 1, UPCOMING: 2, FINISHED: 2}
    assert all(p.phases[c.id] == card.phase for p in pages for c in p.cohorts
               for card in cards if card.cohort.id == c.id)
    assert (pages[2].first, pages[2].last, pages[2].total) == (5, 5, 5)
    # Past the end: the last page; before the start: the first.
    assert [c.title for c in _page(engine, page=99).cohorts] == ["old"]
    assert _page(engine, page=0).number == 1


def test_filters_by_phase_and_by_a_piece_of_the_title(engine, make_cohort):
    _cohorts(engine, make_cohort, {**STARTS, "50%_off\\": date(2025, 4, 15)})
    upcoming = _page(engine, filters=ListFilters(UPCOMING), size=10)
    assert [c.title for c in upcoming.cohorts] == ["soon", "later"]
    assert upcoming.total == 2 and upcoming.everyone == 6
    found = _page(engine, filters=ListFilters(text="OL"), size=10)
    assert [c.title for c in found.cohorts] == ["old"]  # case does not matter
    assert found.counts == {FINISHED: 1}
    # LIKE's wildcards and escape are matched as themselves.
    for text in ("%", "_", "0%_", "\\"):
        assert [c.title for c in _page(engine, filters=ListFilters(text=text)).cohorts] == [
            "50%_off\\"], text
    assert _page(engine, filters=ListFilters(RUNNING, "nothing like it")).cohorts == []


def test_staff_see_their_cohorts_only(engine, make_cohort):
    ids = _cohorts(engine, make_cohort)
    with db.transaction(engine) as session:
        user = User(email="f@cohort.example", role=Role.FACILITATOR, password_hash="-")
        session.add(user)
        session.flush()
        for name in ("old", "running"):
            session.add(CohortStaff(cohort_id=ids[name], user_id=user.id,
                                    role=CohortRole.OWNER))
    mine = _page(engine, user, size=10)
    assert [c.title for c in mine.cohorts] == ["running", "old"] and mine.pages == 1


def test_query_strings_never_fail():
    assert parse_page({"page": "2"}) == 2
    for junk in ("", "abc", "-1", "1e3", "2.5", "9" * 40, " 3", "٣", "²"):
        assert parse_page({"page": junk}) == 1, junk
    assert parse_filters({"phase": "bogus", "q": "  Hold\x00 1\n "}) == ListFilters(None, "Hold 1")
    assert parse_filters({"phase": "finished", "q": "x" * 1000}).text == "x" * 200
    assert by_phase(["a", "b", "c"], {"a": FINISHED, "b": RUNNING, "c": FINISHED}.get) == [
        (RUNNING, ["b"]), (FINISHED, ["a", "c"])]
