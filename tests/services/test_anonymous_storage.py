"""Anonymous answers cannot be linked to invitations through the database itself.

The attack: someone who can read the database (a DBA, a backup, a `pg_dump`) but not the
application tries to tell whose anonymous answer is whose. On PostgreSQL they compare each
row's transaction id (`xmin`) and physical position (`ctid`) with the invitation rows; on
both databases they sort the answers by id, by physical order or by any date column and
compare with the order in which invitations were completed. Every participant here gives a
different answer, so each answer's author is known to the test: with 12 answers a chance match
of a full order is 1 in 12! (about 2 in a billion).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.core.programme import load_library
from cohort.models import (
    AnonymousAnswerPool,
    AnonymousResponse,
    Invitation,
    Participant,
    Survey,
)

PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
CREATED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DURING_FINAL = datetime(2025, 10, 6, 8, 0, tzinfo=UTC)  # final survey open 3-24 Oct
AFTER_FINAL = datetime(2025, 10, 30, 8, 0, tzinfo=UTC)
PEOPLE = [ParticipantRow(f"Leder {i:02d}", f"leder{i:02d}@example.org", "Vejle Kommune",
                         "Leder", "da") for i in range(12)]
FINAL_ANSWERS = {"new-tools": 5, "network": 4, "passed-on": 4, "staff-engagement": 3,
                 "judge-technology": 4, "language": 5, "most-useful": [1, 3], "recommend": 9}
K = 5  # digital-lederskab's evaluation.min_group_size


def answers_of(number: int) -> dict:
    """Participant `number`'s answers: the free text says who wrote it (for the test only)."""
    return {**FINAL_ANSWERS, "leadership-change": f"svar {number:02d}"}


def author(answers: dict) -> int:
    return int(answers["leadership-change"].removeprefix("svar "))


@pytest.fixture
def cohort_id(engine):
    return new_cohort(engine)


def new_cohort(engine) -> int:
    """A digital-lederskab cohort of PEOPLE; its id."""
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2025, 4, 8))
    with db.transaction(engine) as session:
        return services.create_cohort(session, new, PEOPLE, now=CREATED).id


def invitations(engine, cohort_id) -> list[int]:
    """The final survey's invitation ids, in the order of PEOPLE."""
    with db.transaction(engine) as session:
        rows = session.execute(
            select(Participant.email, Invitation.id)
            .join(Invitation, Invitation.participant_id == Participant.id)
            .join(Survey, Survey.id == Invitation.survey_id)
            .where(Survey.cohort_id == cohort_id, Survey.key == "final")).all()
    by_email = dict(rows)
    return [by_email[person.email] for person in PEOPLE]


def answer(engine, invitation_id: int, number: int, now=DURING_FINAL) -> None:
    services.submit_response(engine, invitation_id, answers_of(number), now)


def final_survey(engine, cohort_id) -> int:
    with db.transaction(engine) as session:
        return services.get_survey(session, cohort_id, "final").id


def everyone_answers(engine, cohort_id) -> list[int]:
    """All 12 answer, one after the other; returns the authors in the order of answering."""
    ids = invitations(engine, cohort_id)
    for number, invitation_id in enumerate(ids):
        answer(engine, invitation_id, number)
    return list(range(len(ids)))


def close(engine, now=AFTER_FINAL) -> int:
    with db.transaction(engine) as session:
        return services.move_pooled_answers(session, now)


def stored_authors(engine, order_by: str) -> list[int]:
    with db.transaction(engine) as session:
        rows = session.execute(text(
            f"SELECT answers FROM anonymous_response ORDER BY {order_by}")).scalars().all()
    return [author(a if isinstance(a, dict) else json.loads(a)) for a in rows]


def is_postgres(engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_no_transaction_id_or_position_links_an_answer_to_its_invitation(engine, cohort_id):
    if not is_postgres(engine):
        pytest.skip("xmin and ctid are PostgreSQL's")
    order = everyone_answers(engine, cohort_id)
    close(engine)
    with engine.connect() as connection:
        invitation_xmins = set(connection.execute(text(
            "SELECT xmin::text FROM invitation WHERE completed")).scalars())
        answer_xmins = connection.execute(text(
            "SELECT xmin::text FROM anonymous_response")).scalars().all()
    assert len(invitation_xmins) == 12 and len(answer_xmins) == 12
    assert not invitation_xmins & set(answer_xmins)
    # The whole survey's answers were written by one transaction: no per-person xmin at all.
    assert len(set(answer_xmins)) == 1
    assert stored_authors(engine, "ctid") != order
    assert stored_authors(engine, "id") != order


def test_no_row_order_or_date_links_an_answer_to_its_invitation(engine, cohort_id):
    order = everyone_answers(engine, cohort_id)
    close(engine)
    assert sorted(stored_authors(engine, "id")) == order
    assert stored_authors(engine, "id") != order
    with db.transaction(engine) as session:
        days = set(session.scalars(select(AnonymousResponse.submitted_on)))
    assert days == {date(2025, 10, 3)}  # the survey's first day, for every answer
    if is_postgres(engine):
        return
    # SQLite: the table has no rowid, and its physical (key) order is not the answering order.
    with engine.connect() as connection:
        with pytest.raises(Exception, match="rowid"):
            connection.execute(text("SELECT rowid FROM anonymous_response"))
        connection.rollback()
        physical = connection.execute(text("SELECT answers FROM anonymous_response"))
        assert [author(json.loads(a)) for a in physical.scalars()] != order


def test_pooled_rows_share_one_transaction_and_carry_no_time_or_person(engine, cohort_id):
    ids = invitations(engine, cohort_id)
    for number in range(K - 1):
        answer(engine, ids[number], number)
    columns = {c.name: c for c in AnonymousAnswerPool.__table__.columns}
    assert set(columns) == {"key", "survey_id", "answers", "breakdown_value", "source"}
    assert {fk.target_fullname for fk in columns["survey_id"].foreign_keys} == {"survey.id"}
    with db.transaction(engine) as session:
        keys = session.scalars(select(AnonymousAnswerPool.key)).all()
    assert len(keys) == K - 1 and all(len(key) == 32 for key in keys)
    if not is_postgres(engine):
        with engine.connect() as connection, pytest.raises(Exception, match="rowid"):
            connection.execute(text("SELECT rowid FROM anonymous_answer_pool"))
        return
    with engine.connect() as connection:
        invitation_xmins = set(connection.execute(text(
            "SELECT xmin::text FROM invitation WHERE completed")).scalars())
        pool_xmins = set(connection.execute(text(
            "SELECT xmin::text FROM anonymous_answer_pool")).scalars())
    assert len(invitation_xmins) == K - 1
    assert len(pool_xmins) == 1 and not pool_xmins & invitation_xmins


def test_results_lag_until_k_answers_wait_and_everything_is_stored_when_closed(
        engine, cohort_id):
    ids = invitations(engine, cohort_id)
    survey = final_survey(engine, cohort_id)

    def stored_and_waiting():
        with db.transaction(engine) as session:
            results = services.survey_results(session, survey).responses
            rate = next(r for r in services.response_rates(session, cohort_id)
                        if r.survey_id == survey)
            return results, services.pooled_answers(session, survey), rate.answered

    for number in range(K - 1):
        answer(engine, ids[number], number)
    assert stored_and_waiting() == (0, K - 1, K - 1)  # nothing new in results yet
    answer(engine, ids[K - 1], K - 1)
    assert stored_and_waiting() == (K, 0, K)  # the k-th answer moves the whole pool
    for number in range(K, K + 3):
        answer(engine, ids[number], number)
    assert stored_and_waiting() == (K, 3, K + 3)
    assert close(engine, DURING_FINAL) == 0  # still open and fewer than k: they wait
    assert stored_and_waiting() == (K, 3, K + 3)
    assert close(engine, AFTER_FINAL) == 3  # closed: everything waiting is stored
    assert stored_and_waiting() == (K + 3, 0, K + 3)
    assert sorted(stored_authors(engine, "id")) == list(range(K + 3))


def test_the_scheduler_tick_stores_what_waits_for_a_closed_survey(app):
    from cohort.mail.scheduler import answers_tick

    engine = app.extensions["cohort.engine"]
    library = load_library(PROGRAMMES)
    new = services.NewCohort(library.programmes["digital-lederskab"],
                             library.sources["digital-lederskab"], date(2025, 4, 8))
    with db.transaction(engine) as session:
        cohort_id = services.create_cohort(session, new, PEOPLE, now=CREATED).id
    ids = invitations(engine, cohort_id)
    for number in range(2):
        answer(engine, ids[number], number)
    assert stored_authors(engine, "id") == []
    answers_tick(app)  # the real clock: the 2025 survey has long closed
    assert sorted(stored_authors(engine, "id")) == [0, 1]
    with db.transaction(engine) as session:
        assert services.pooled_answers(session, final_survey(engine, cohort_id)) == 0


def test_an_answer_that_cannot_be_pooled_leaves_the_invitation_open(engine, cohort_id):
    ids = invitations(engine, cohort_id)
    with engine.begin() as connection:  # a real failure of the second transaction
        connection.execute(text("DROP TABLE anonymous_answer_pool"))
    with pytest.raises(Exception, match="anonymous_answer_pool"):
        answer(engine, ids[0], 0)
    with db.transaction(engine) as session:
        assert session.get(Invitation, ids[0]).completed is False


def test_simultaneous_answers_are_each_pooled_once(engine, cohort_id):
    """Twelve participants answer at the same moment: the pool's rewrites take turns, so no
    answer is lost or doubled, and the stored set is exactly the twelve."""
    ids = invitations(engine, cohort_id)
    start = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def answer_together(number: int) -> None:
        start.wait()
        try:
            answer(engine, ids[number], number)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=answer_together, args=(n,)) for n in range(len(ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    if is_postgres(engine):  # whatever waits was rewritten by one transaction, and so is
        with engine.connect() as connection:  # every stored answer
            for table in ("anonymous_answer_pool", "anonymous_response"):
                assert len(set(connection.execute(text(
                    f"SELECT xmin::text FROM {table}")).scalars())) <= 1
    close(engine)
    assert sorted(stored_authors(engine, "id")) == list(range(len(ids)))


def test_a_second_answer_waits_for_the_pool_rewrite_in_progress(engine, cohort_id):
    """While one answer's pool transaction is open, another answer to the same survey waits
    for it (a lock on the survey row), then rewrites the whole pool: every waiting row has
    the same xmin, and none is lost."""
    ids = invitations(engine, cohort_id)
    for number in range(2):
        answer(engine, ids[number], number)
    survey = final_survey(engine, cohort_id)
    outcome: list[object] = []

    def second():
        try:
            answer(engine, ids[3], 3)
            outcome.append("pooled")
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            outcome.append(exc)

    with db.read_session(engine) as session:
        target = services.surveys.answer_target(session, ids[2])
        participant = session.scalar(select(Invitation.participant_id)
                                     .where(Invitation.id == ids[2]))
    with db.transaction(engine) as session:  # the third answer's pool transaction, held open
        services.surveys._pool(session, services.surveys._PooledAnswer(
            survey, answers_of(2), "web", participant, target.spec, target.min_group_size))
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)  # let it reach the pool while this transaction holds it
    thread.join(timeout=60)
    assert outcome == ["pooled"]
    with db.transaction(engine) as session:
        waiting = session.scalars(select(AnonymousAnswerPool.answers)).all()
    assert sorted(author(a) for a in waiting) == [0, 1, 2, 3]
    if is_postgres(engine):
        with engine.connect() as connection:
            xmins = set(connection.execute(text(
                "SELECT xmin::text FROM anonymous_answer_pool")).scalars())
        assert len(xmins) == 1


def file_bytes(engine) -> bytes:
    """The SQLite database file as a thief or a backup has it, after a checkpoint (the WAL,
    which records every write until then, is the one thing docs/anonymity.md leaves out)."""
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return Path(engine.url.database).read_bytes()


def test_the_sqlite_file_keeps_no_deleted_pool_states(engine, cohort_id):
    """Every answer rewrites the survey's pool, and each batch rewrites the stored answers:
    without `secure_delete` the deleted rows stay in the file's free space, and how often
    each answer is found there (the first answer is in every later pool state) gives the
    order of answering. With it, each answer is in the file once: as its stored row."""
    if is_postgres(engine):
        pytest.skip("the SQLite file; PostgreSQL's dead rows are in the docs' 'not covered'")
    # The check can see deleted rows: a control table written and deleted without it.
    with engine.begin() as connection:
        connection.execute(text("PRAGMA secure_delete = OFF"))
        connection.execute(text("CREATE TABLE control (body TEXT)"))
        connection.execute(text("INSERT INTO control VALUES ('kontrol-svar-x')"))
    with engine.begin() as connection:
        connection.execute(text("PRAGMA secure_delete = OFF"))
        connection.execute(text("DELETE FROM control"))
    assert b"kontrol-svar-x" in file_bytes(engine)
    engine.dispose()  # the answers below come on fresh connections, as in the app

    ids = invitations(engine, cohort_id)
    for number, invitation_id in enumerate(ids):  # long answers: the pool fills pages
        long = {**answers_of(number), "leadership-change": f"svar {number:02d} " + "x" * 1500}
        services.submit_response(engine, invitation_id, long, DURING_FINAL)
        assert file_bytes(engine).count(f"svar {number:02d}".encode()) == 1
    close(engine)
    raw = file_bytes(engine)
    counts = [raw.count(f"svar {number:02d}".encode()) for number in range(len(ids))]
    assert counts == [1] * len(ids)
    found = sorted(range(len(ids)), key=lambda n: raw.index(f"svar {n:02d}".encode()))
    assert found != list(range(len(ids)))  # the file's order is not the order of answering


def test_no_sequence_numbers_an_answer_or_a_pooled_row(engine, cohort_id):
    """A sequence would number the answers in the order they were written: neither anonymous
    table draws from one (their keys are random), while the invitation table does, so the
    check below would see one."""
    ids = invitations(engine, cohort_id)
    for number in range(K + 2):
        answer(engine, ids[number], number)
    tables = ("anonymous_response", "anonymous_answer_pool")
    with engine.connect() as connection:
        if is_postgres(engine):
            owned = set(connection.execute(text(
                "SELECT t.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
                "JOIN pg_class t ON t.oid = d.refobjid "
                "WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i')")).scalars())
            defaults = connection.execute(text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE column_default LIKE 'nextval%' OR is_identity = 'YES'")).scalars().all()
            numbered = owned | set(defaults)
        else:
            numbered = {name for name, in connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
                "'%AUTOINCREMENT%'"))} | {name for (name,) in connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                    "'%WITHOUT ROWID%'"))}
    assert "invitation" in numbered  # the check sees an ordinary numbered table
    assert not numbered & set(tables)
    with db.transaction(engine) as session:
        keys = session.scalars(select(AnonymousResponse.id)).all()
    assert len(keys) == K and all(len(key) == 32 and int(key, 16) >= 0 for key in keys)
