"""An anonymous answer's commits: only the last waits for the disk (issue 24).

`services.submit_response` commits the invitation's completed mark (the claim), then the
pooled answer, then (once k wait) the stored answers. The claim's commit does not wait for the
disk: the pool's, which follows it before the participant is told anything, makes it durable
with it (both databases recover a prefix of their log; `db.wait_for_disk`). Every commit the
caller returns after waits, and a connection goes back to the pool waiting for the disk again,
also after a refused claim.

The test follows each connection's setting through the statements the answer sends
(`PRAGMA synchronous` on SQLite, `synchronous_commit` on PostgreSQL) and notes it at each
commit: the claim's is its own statement in autocommit mode, the others are COMMITs. The
PostgreSQL here is a server of the module's own whose commits wait, as in production (the
suite's shared server's commits wait for nothing, so there the answer changes no setting).
And a PostgreSQL server that crashes the moment an answer is stored has kept all of it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.models import AnonymousAnswerPool, Invitation
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.statements import StatementsAndCommits, autocommitted
from tests.services.test_anonymous_storage import (  # noqa: F401 (cohort_id: a fixture)
    K,
    answer,
    cohort_id,
    invitations,
    new_cohort,
)

NOT_WAITING = ("PRAGMA synchronous=NORMAL", "SET synchronous_commit TO off")
WAITING = ("PRAGMA synchronous=FULL", "RESET synchronous_commit")


@pytest.fixture(scope="module")
def waiting_postgres():
    """A server whose commits wait for the disk (synchronous_commit on), and whose WAL writer
    writes a commit that did not wait only after 10 s (its longest delay): until a commit
    that waits, such a commit is in the server's memory alone, and a crash loses it."""
    server = PostgresServer(synchronous_commit=True, settings="-c wal_writer_delay=10000")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """conftest's engine, with PostgreSQL on `waiting_postgres`."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cohort.sqlite3'}"
    else:
        url = request.getfixturevalue("waiting_postgres").new_database()
    engine = db.make_engine(url)
    db.create_schema(engine)
    yield engine
    engine.dispose()


class Commits(StatementsAndCommits):
    """The commits made on `engine` while the block runs, in order, each as (what it
    committed, whether its connection waited for the disk then), and the driver connections
    that made them."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.made: list[tuple[str, bool]] = []
        self.settings: list[str] = []
        self.connections: dict[int, object] = {}
        self._waiting: dict[int, bool] = {}

    def _statement(self, _conn, cursor, statement, *_args) -> None:
        dbapi = cursor.connection
        key = id(dbapi)
        self.connections[key] = dbapi
        if statement in NOT_WAITING or statement in WAITING:
            self._waiting[key] = statement in WAITING
            self.settings.append(statement)
            return
        writes = statement.lstrip().startswith(("UPDATE", "INSERT", "DELETE"))
        if writes and autocommitted(self.engine, cursor):
            self.made.append((statement.split()[1], self._waiting.get(key, True)))

    def _commit(self, conn) -> None:
        key = id(conn.connection.dbapi_connection)
        self.made.append(("COMMIT", self._waiting.get(key, True)))



def waits_for_disk(engine, dbapi) -> bool:
    """Whether a driver connection (back in the pool) has the app's setting: SQLite's
    synchronous=FULL, PostgreSQL's synchronous_commit as the server has it (not the
    session's own)."""
    cursor = dbapi.cursor()
    try:
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA synchronous")
            return cursor.fetchone()[0] == 2  # FULL
        cursor.execute("SELECT source FROM pg_settings WHERE name = 'synchronous_commit'")
        return cursor.fetchone()[0] != "session"
    finally:
        cursor.close()
        if engine.dialect.name == "postgresql" and not dbapi.autocommit:
            dbapi.rollback()  # the pooled connection as it was: no transaction open


def test_only_an_anonymous_answers_last_commit_waits_for_the_disk(engine, cohort_id):  # noqa: F811
    ids = invitations(engine, cohort_id)
    for number in range(K):
        with Commits(engine) as commits:
            answer(engine, ids[number], number)
        if number < K - 1:  # the claim, then the pool: the pool's commit waits
            assert commits.made == [("invitation", False), ("COMMIT", True)]
        else:  # the k-th: the pool is stored as answers in a third commit, which waits
            assert commits.made == [("invitation", False), ("COMMIT", True), ("COMMIT", True)]
        assert commits.made[-1] == ("COMMIT", True)  # the last before returning waits
        for dbapi in commits.connections.values():
            assert waits_for_disk(engine, dbapi)


def test_a_refused_claim_leaves_its_connection_waiting_for_the_disk(engine, cohort_id):  # noqa: F811
    first = invitations(engine, cohort_id)[0]
    answer(engine, first, 0)
    with Commits(engine) as commits, pytest.raises(services.AlreadyAnswered):
        answer(engine, first, 0)
    assert commits.made == [("invitation", False)]  # refused: it changed no row
    assert commits.connections
    for dbapi in commits.connections.values():
        assert waits_for_disk(engine, dbapi)


def test_commits_not_waiting_restores_the_setting_when_the_block_raises(engine):
    with engine.connect() as conn:
        with pytest.raises(RuntimeError), db.commits_not_waiting(conn):
            assert not waits_for_disk(engine, conn.connection.dbapi_connection)
            raise RuntimeError("in the block")
        assert waits_for_disk(engine, conn.connection.dbapi_connection)


def test_on_a_server_whose_commits_do_not_wait_an_answer_changes_no_setting(
        postgres_server):
    engine = db.make_engine(postgres_server.new_database())
    db.create_schema(engine)
    first = invitations(engine, new_cohort(engine))[0]
    with Commits(engine) as commits:
        answer(engine, first, 0)
    assert commits.settings == []
    assert [made for made, _waited in commits.made] == ["invitation", "COMMIT"]
    engine.dispose()


@pytest.mark.slow
def test_a_server_crash_as_the_answer_returns_keeps_all_of_it(waiting_postgres):
    server = waiting_postgres  # crashed and started again (later tests connect anew)
    engine = db.make_engine(server.new_database())
    db.create_schema(engine)
    first = invitations(engine, new_cohort(engine))[0]
    answer(engine, first, 0)  # the claim does not wait; the pool's commit does
    server.crash()
    server.start_again()
    engine.dispose()  # its connections died with the server
    with db.read_session(engine) as session:
        assert session.scalar(select(Invitation.completed).where(Invitation.id == first))
        assert session.scalar(select(func.count()).select_from(AnonymousAnswerPool)) == 1
    engine.dispose()


def test_a_connection_lost_in_the_block_is_dropped_without_a_second_error(waiting_postgres):
    """The setting cannot be restored on a connection the server has closed: the pool drops
    it (it is never handed out without the app's setting), and the block's own outcome
    stands (the claim it made is followed by the pool's transaction, on a new connection)."""
    url = waiting_postgres.new_database()
    engine, admin = db.make_engine(url), db.make_engine(url)
    with engine.connect() as conn:
        with db.commits_not_waiting(conn):
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with admin.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({backend}, 10000)")
        assert conn.invalidated
    with engine.connect() as conn:  # a new connection, with the server's setting
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    engine.dispose()
    admin.dispose()
