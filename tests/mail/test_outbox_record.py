"""The hand-over and result writes of mail/outbox/record.py, on SQLite and PostgreSQL: one
email's rows claimed -> sending only while the claim is ours, with the previous email's result
in the same commit (on PostgreSQL one statement: `record.pg_statement`, by a scalar id for a
one-row email and by arrays for a bundle)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cohort import db
from cohort.core import deliveries as kinds
from cohort.mail.dispatch import Dispatcher, OutboxSettings
from cohort.mail.outbox.record import pg_statement
from cohort.models import Delivery
from tests.fixtures.cohorts import CREATED
from tests.mail.test_dispatch import PEOPLE, engine, make_app

TOKEN = "our-claim"
SENT = dict(state=kinds.SENT, sent_at=CREATED, last_code=250, last_error=None, retry_at=None)


@pytest.fixture
def claimed(database_url, tmp_path, make_cohort):
    """A dispatcher and the rows it has claimed under TOKEN (detached, as a pass holds them)."""
    app = make_app(database_url, "smtp://127.0.0.1:1", tmp_path)
    make_cohort(engine(app), people=PEOPLE)
    dispatcher = Dispatcher(engine(app), OutboxSettings.from_app(app))
    ids = dispatcher._claim(CREATED, None, 12, TOKEN)
    assert len(ids) >= 6
    with db.transaction(engine(app)) as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.id.in_(ids))
                                    .order_by(Delivery.id)))
        session.expunge_all()
    yield dispatcher, rows
    dispatcher._drop_fast_connection(reset=True)
    engine(app).dispose()


def stored(dispatcher: Dispatcher, ids: list[int]) -> dict[int, Delivery]:
    with db.transaction(dispatcher.engine) as session:
        found = {d.id: d for d in session.scalars(select(Delivery).where(Delivery.id.in_(ids)))}
        session.expunge_all()
    return found


def test_one_row_and_bundles_are_handed_over_with_the_previous_result(claimed):
    dispatcher, rows = claimed
    one, bundle, last = [rows[0]], rows[1:4], [rows[4]]
    with db.transaction(dispatcher.engine) as session:  # one row of the bundle was tried before
        session.execute(update(Delivery).where(Delivery.id == bundle[1].id).values(attempts=2))
    bundle[1].attempts = 2

    assert dispatcher._write_hand_over(one, TOKEN, "<one@x>", []) == one
    dispatcher._result(one, TOKEN, SENT)
    assert dispatcher._write_hand_over(bundle, TOKEN, "<bundle@x>",
                                       dispatcher._unwritten) == bundle
    dispatcher._unwritten = None
    failed = dict(state=kinds.PENDING, sent_at=None, last_code=451, last_error="later",
                  retry_at=CREATED + timedelta(minutes=1))
    dispatcher._result(bundle, TOKEN, failed)
    assert dispatcher._write_hand_over(last, TOKEN, "<last@x>", dispatcher._unwritten) == last
    dispatcher._unwritten = None
    dispatcher._result(last, TOKEN, SENT)
    dispatcher._write_unwritten()  # the end of a batch: the last result alone

    found = stored(dispatcher, [r.id for r in rows])
    assert (found[one[0].id].state, found[one[0].id].attempts, found[one[0].id].message_id,
            found[one[0].id].sent_at, found[one[0].id].last_code) == (
        kinds.SENT, 1, "<one@x>", CREATED, 250)
    assert [(found[r.id].state, found[r.id].attempts, found[r.id].message_id,
             found[r.id].retry_at, found[r.id].last_error) for r in bundle] == [
        (kinds.PENDING, attempts, "<bundle@x>", CREATED + timedelta(minutes=1), "later")
        for attempts in (1, 3, 1)]
    assert (found[last[0].id].state, found[last[0].id].message_id) == (kinds.SENT, "<last@x>")
    assert {found[r.id].state for r in rows[5:]} == {kinds.CLAIMED}  # not touched


def test_rows_no_longer_ours_are_not_handed_over(claimed):
    """A row another dispatcher took over (its claim released and claimed again) is left as
    it is, for a one-row email and for a bundle of which it is one row."""
    dispatcher, rows = claimed
    alone, bundle = rows[0], rows[1:4]
    with db.transaction(dispatcher.engine) as session:
        session.execute(update(Delivery).where(Delivery.id.in_([alone.id, bundle[0].id]))
                        .values(claim_token="another-claim"))
    # With the previous email's result in the same statement: the rows it writes are not
    # counted as handed over (on PostgreSQL the driver counts the outer UPDATE's rows only).
    previous = rows[5]
    assert dispatcher._write_hand_over([previous], TOKEN, "<p@x>", []) == [previous]
    assert dispatcher._write_hand_over([alone], TOKEN, "<a@x>",
                                       [(previous.id, TOKEN, SENT)]) == []
    assert dispatcher._write_hand_over(bundle, TOKEN, "<b@x>", []) == bundle[1:]
    found = stored(dispatcher, [r.id for r in rows[:4]] + [previous.id])
    assert [(found[r.id].state, found[r.id].attempts, found[r.id].message_id)
            for r in rows[:4]] == [(kinds.CLAIMED, 0, None), (kinds.CLAIMED, 0, None),
                                   (kinds.SENDING, 1, "<b@x>"), (kinds.SENDING, 1, "<b@x>")]
    assert found[previous.id].state == kinds.SENT


def test_a_late_result_lands_on_a_row_flagged_for_review(claimed):
    """The sender's own result, written by claim token, wins over needs_review (another pass
    thought the sender gone), for a one-row email as for a bundle."""
    dispatcher, rows = claimed
    one, bundle = [rows[0]], rows[1:3]
    assert dispatcher._write_hand_over(one, TOKEN, "<one@x>", []) == one
    assert dispatcher._write_hand_over(bundle, TOKEN, "<two@x>", []) == bundle
    with db.transaction(dispatcher.engine) as session:
        session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows[:3]]))
                        .values(state=kinds.NEEDS_REVIEW))
    dispatcher._result(one, TOKEN, SENT)
    dispatcher._result(bundle, TOKEN, SENT)  # writes the first result
    dispatcher._write_unwritten()
    assert {d.state for d in stored(dispatcher, [r.id for r in rows[:3]]).values()} == {
        kinds.SENT}


def test_the_postgresql_statement_names_one_row_by_a_scalar():
    """A one-row email's statement has no arrays (they cost the server about twice the CPU);
    a bundle's hands over by `unnest` and returns the rows it changed."""
    row = Delivery(id=7, cohort_id=1, kind="welcome", anchor="a", recipient="r", send_at=CREATED)
    other = Delivery(id=8, cohort_id=1, kind="welcome", anchor="b", recipient="r",
                     send_at=CREATED, attempts=1)
    sql, arguments = pg_statement(([row], TOKEN, "<m@x>"), [(6, TOKEN, SENT)])
    assert "[]" not in sql and "unnest" not in sql and "RETURNING" not in sql
    assert sql.startswith("WITH result AS (UPDATE delivery")
    assert (arguments["h_id"], arguments["h_attempts"], arguments["r_id"]) == (7, 1, 6)
    sql, arguments = pg_statement(([row, other], TOKEN, "<m@x>"),
                                  [(5, TOKEN, SENT), (6, TOKEN, SENT)])
    assert "unnest" in sql and sql.endswith("RETURNING delivery.id")
    assert (arguments["h_ids"], arguments["h_attempts"], arguments["r_ids"]) == (
        [7, 8], [1, 2], [5, 6])
    sql, arguments = pg_statement(None, [(6, TOKEN, SENT)])
    assert sql.startswith("UPDATE delivery SET state") and "h_token" not in arguments
    with pytest.raises(ValueError):
        pg_statement(None, [(5, TOKEN, SENT), (6, "another-claim", SENT)])
