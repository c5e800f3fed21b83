"""The staff dashboard's cards: phase and order, and figures that agree with each cohort's
overview, counted for all cohorts at once (the number of queries does not grow with them)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, select, update

from cohort import db, services
from cohort.core.attendance import ABSENT, Mark
from cohort.demo import demo_participants
from cohort.models import Cohort, Delivery, GroupMember, Meeting
from cohort.services.dashboard import (
    FINISHED,
    RUNNING,
    UPCOMING,
    cohort_cards,
    cohort_dashboard,
    response_totals,
)
from tests.fixtures.statements import recorded_statements

NOW = datetime(2025, 5, 20, 12, tzinfo=UTC)
STARTS = {"later": date(2026, 1, 6), "finished": date(2024, 1, 9), "running": date(2025, 4, 8),
          "soon": date(2025, 9, 2), "old": date(2023, 9, 5)}


def _cohorts(engine, make_cohort, starts=STARTS) -> dict[str, int]:
    return {name: make_cohort(engine, people=demo_participants(12), start=start,
                              title=name, now=datetime(start.year - 1, 12, 1, tzinfo=UTC)).id
            for name, start in starts.items()}


def _cards(engine, ids):
    with db.transaction(engine) as session:
        cohorts = session.scalars(select(Cohort).where(Cohort.id.in_(ids))).all()
        return cohort_cards(session, cohorts, NOW)


def test_cards_run_running_upcoming_finished(engine, make_cohort):
    ids = _cohorts(engine, make_cohort)
    cards = _cards(engine, ids.values())
    assert [c.cohort.title for c in cards] == ["running", "soon", "later", "finished", "old"]
    assert [c.phase for c in cards] == [RUNNING, UPCOMING, UPCOMING, FINISHED, FINISHED]
    running = cards[0]
    assert 0 < running.held < running.meetings
    assert running.next is not None and running.next.ends_at > NOW
    assert all(c.held == c.meetings and c.next is None for c in cards if c.phase == FINISHED)
    assert all(c.held == 0 for c in cards if c.phase == UPCOMING)


def test_the_cohort_in_a_meeting_now_comes_first(engine, make_cohort):
    ids = _cohorts(engine, make_cohort, {"a": date(2025, 4, 8), "b": date(2025, 4, 15)})
    with db.transaction(engine) as session:
        meeting = session.scalars(select(Meeting).where(Meeting.cohort_id == ids["b"],
                                                        Meeting.ends_at > NOW)
                                  .order_by(Meeting.starts_at)).first()
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at, meeting.ends_at = NOW - length / 2, NOW + length / 2
    cards = _cards(engine, ids.values())
    assert [c.cohort.title for c in cards] == ["b", "a"]
    assert cards[0].next.starts_at < NOW < cards[0].next.ends_at


def test_card_figures_agree_with_the_overview(engine, make_cohort):
    ids = _cohorts(engine, make_cohort)
    with db.transaction(engine) as session:
        # Trouble in two cohorts: failed emails, missed meetings, a group short of a member.
        for name, n in (("running", 3), ("finished", 1)):
            rows = session.scalars(select(Delivery.id).where(
                Delivery.cohort_id == ids[name], Delivery.kind == "welcome").limit(n)).all()
            session.execute(update(Delivery).where(Delivery.id.in_(rows))
                            .values(state="failed"))
        keys = [m.key for m in services.attendance_summary(session, ids["running"]).meetings]
        people = [r.participant.id for r in
                  services.meeting_sheet(session, ids["running"], keys[0]).rows]
        for key in keys[:2]:
            services.set_marks(session, ids["running"], key,
                               {pid: Mark(ABSENT)
                                for pid in people[:2]}, "test", NOW)
        group, members = services.group_rows(session, ids["finished"])[0]
        session.execute(delete(GroupMember).where(GroupMember.group_id == group.id,
                                                  GroupMember.participant_id == members[0].id))
    cards = {c.cohort.title: c for c in _cards(engine, ids.values())}
    assert cards["running"].failed_emails == 3 and cards["finished"].failed_emails == 1
    assert cards["running"].missed_two == 2 and cards["finished"].repair >= 1
    assert not cards["soon"].alerts and cards["running"].alerts
    with db.transaction(engine) as session:
        for card in cards.values():
            board = cohort_dashboard(session, session.get(Cohort, card.cohort.id), NOW)
            assert card.participants == board.participant_count == 12
            assert card.held == len(board.past)
            assert card.meetings == len(board.past) + len(board.upcoming) + (board.next is not None)
            assert card.failed_emails == board.failed_deliveries
            assert card.missed_two == len(board.attendance.follow_up)
            assert card.repair == len(board.repair)
            assert (card.next.id if card.next else None) == (board.next.id if board.next else None)


def test_queries_do_not_grow_with_the_cohorts(engine, make_cohort):
    few = list(_cohorts(engine, make_cohort, {"a": date(2025, 4, 8), "b": date(2024, 1, 9)})
               .values())
    many = few + list(_cohorts(engine, make_cohort, {
        f"c{i}": date(2024 + i % 3, 1 + i % 12, 1 + i) for i in range(8)}).values())
    with recorded_statements(engine) as statements:
        _cards(engine, few)
        with_few = len(statements)
        statements.clear()
        _cards(engine, many)
    assert len(statements) == with_few <= 10


# --- the evaluator's start page ---------------------------------------------------------------

def test_response_totals_are_the_sums_of_each_cohorts_response_rates(engine, make_cohort):
    """/evaluation's figures for all cohorts at once agree with the per-survey rates of each
    cohort: identified answers, anonymous answers stored and waiting in the pool; and the
    number of queries does not grow with the cohorts."""
    from tests.fixtures.surveys import (
        AFTER_FINAL,
        DURING_FINAL,
        DURING_PRE,
        FINAL_ANSWERS,
        PEOPLE,
        PRE_ANSWERS,
        close_final,
        submit,
    )

    a, b, c = (make_cohort(engine, people=PEOPLE, title=t).id for t in "abc")
    for person in PEOPLE[:3]:
        submit(engine, a, "self-assessment-pre", person.email, PRE_ANSWERS, DURING_PRE)
    for person in PEOPLE[:2]:  # fewer than k: they wait in the pool
        submit(engine, a, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    for person in PEOPLE[:6]:
        submit(engine, b, "final", person.email, FINAL_ANSWERS, DURING_FINAL)
    close_final(engine)  # b's are stored; a's two as well (the survey has closed)
    submit(engine, c, "self-assessment-pre", PEOPLE[0].email, PRE_ANSWERS, DURING_PRE)
    with recorded_statements(engine) as statements:
        for moment in (DURING_PRE, DURING_FINAL, AFTER_FINAL):
            with db.transaction(engine) as session:
                statements.clear()
                totals = response_totals(session, [a], moment)
                one = len(statements)
                statements.clear()
                totals = response_totals(session, [a, b, c], moment)
                assert len(statements) == one
                for cohort_id in (a, b, c):
                    rates = services.response_rates(session, cohort_id)
                    opened = [r for r in rates if r.opens_at <= moment]
                    found = totals[cohort_id]
                    assert (found.opened, found.answered, found.invited) == (
                        len(opened), sum(r.answered for r in opened),
                        sum(r.invited for r in opened))
                    assert found.changes_at == min(  # the next survey to open
                        (r.opens_at for r in rates if r.opens_at > moment), default=None)
                assert totals[a].answered == (3 if moment == DURING_PRE else 5)


def test_the_cards_fixed_values_are_written_into_their_sql(engine, make_cohort):
    """psycopg prepares a statement after five runs on a connection, and PostgreSQL may then
    plan it once for every parameter value (a generic plan). With `meeting.status <> $1`
    bound, where every meeting is scheduled, that plan expected no meeting at all and probed
    the attendance index once per meeting of the installation (the dashboard of one cohort
    cost 2.6 times its SQLite cost). Written into the SQL, the planner knows them; only the
    cohorts and the moment are sent as parameters."""
    ids = _cohorts(engine, make_cohort, {"running": STARTS["running"]})
    with recorded_statements(engine, parameters=True) as sent:
        assert len(_cards(engine, ids.values())) == 1
    statement, parameters = next((s, p) for s, p in sent if "attendance" in s)
    for fixed in ("'cancelled'", "'absent'", "'excused'", "'failed'", "'needs_review'"):
        assert fixed in statement, fixed
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert not {"cancelled", "absent", "excused", "failed", "needs_review"} & {
        v for v in values if isinstance(v, str)}
