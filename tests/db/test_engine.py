"""The engine and its sessions: what a request costs in round trips to PostgreSQL, and that the
pool survives a server that closed its connections (terminated backends, a restart) without
the old pool_pre_ping round trip on every check-out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import InvalidRequestError
from sqlmodel import Session

from cohort import db
from cohort.models.operations import SchedulerHeartbeat
from tests.fixtures.postgres import PostgresServer


def _beat(name: str, host: str = "") -> SchedulerHeartbeat:
    now = datetime.now(UTC)
    return SchedulerHeartbeat(name=name, host=host, started_at=now, beat_at=now)


def _heartbeats(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(SchedulerHeartbeat))


def test_a_read_session_reads_without_holding_a_transaction_open(engine):
    with db.transaction(engine) as session:
        session.add(_beat("outbox", "h"))
    with db.read_session(engine) as session:
        assert session.get(SchedulerHeartbeat, "outbox").host == "h"
        dbapi_connection = session.connection().connection.dbapi_connection
        if engine.dialect.name == "postgresql":
            from psycopg.pq import TransactionStatus
            assert dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        else:
            assert not dbapi_connection.in_transaction
    # The connection goes back to the pool as an ordinary one: a unit of work still is one.
    with pytest.raises(RuntimeError), db.transaction(engine) as session:
        session.add(_beat("second"))
        session.flush()
        raise RuntimeError("roll it back")
    assert _heartbeats(engine) == 1


def test_a_read_session_refuses_to_write(engine):
    with pytest.raises(InvalidRequestError, match="does not write"), \
            db.read_session(engine) as session:
        session.add(_beat("outbox"))
        session.flush()
    with db.transaction(engine) as session:
        session.add(_beat("outbox", "h"))
    with pytest.raises(InvalidRequestError, match="does not write"), \
            db.read_session(engine) as session:
        session.execute(update(SchedulerHeartbeat).values(host="changed"))
    with db.read_session(engine) as session:
        assert session.get(SchedulerHeartbeat, "outbox").host == "h"


# --- PostgreSQL on the wire -------------------------------------------------------------------

@pytest.fixture
def pg_url(postgres_server):
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


class WireTrace:
    """libpq's own protocol trace of every connection the engine opens: the messages the
    client sent and the server answered, one line each."""

    def __init__(self, engine, path: Path) -> None:
        self.path = path
        self.file = path.open("w")
        event.listen(engine, "connect", self._trace)

    def _trace(self, dbapi_connection, _record) -> None:
        from psycopg.pq import Trace
        dbapi_connection.pgconn.trace(self.file.fileno())
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)

    def close(self) -> None:
        self.file.close()

    def lines_during(self, work) -> list[str]:
        self.file.flush()
        start = self.path.stat().st_size
        work()
        self.file.flush()
        with self.path.open() as trace:
            trace.seek(start)
            return trace.read().splitlines()


def _sent(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("F\t") and "\tSync" not in line
            and "\tDescribe" not in line and "\tExecute" not in line and "\tBind" not in line]


def _round_trips(lines: list[str]) -> int:
    return sum(1 for line in lines if "\tReadyForQuery" in line)


def test_a_read_session_costs_one_round_trip_per_statement(pg_url, tmp_path):
    engine = db.make_engine(pg_url)
    trace = WireTrace(engine, tmp_path / "wire.log")
    db.create_schema(engine)
    with db.read_session(engine) as session:  # connect (and the dialect's first queries)
        session.execute(text("SELECT 1"))

    def read() -> None:
        with db.read_session(engine) as session:
            session.get(SchedulerHeartbeat, "outbox")

    lines = trace.lines_during(read)
    assert _round_trips(lines) == 1, lines  # no ping, no BEGIN, no ROLLBACK
    assert len(_sent(lines)) == 1 and "scheduler_heartbeat" in _sent(lines)[0], lines
    engine.dispose()
    trace.close()


def test_a_unit_of_work_costs_begin_its_statements_and_commit(pg_url, tmp_path):
    engine = db.make_engine(pg_url)
    trace = WireTrace(engine, tmp_path / "wire.log")
    db.create_schema(engine)
    with db.transaction(engine) as session:
        session.execute(text("SELECT 1"))

    def write() -> None:
        with db.transaction(engine) as session:
            session.add(_beat("outbox"))

    lines = trace.lines_during(write)
    sent = _sent(lines)
    assert _round_trips(lines) == 3, lines  # BEGIN, the insert, COMMIT: no ping before them
    assert '"BEGIN"' in sent[0] and "INSERT INTO scheduler_heartbeat" in sent[1], sent
    assert '"COMMIT"' in sent[-1], sent
    engine.dispose()
    trace.close()


def _use_pooled_connections(engine, how_many: int) -> None:
    """Leave `how_many` open connections in the pool, each having run a statement."""
    sessions = [db.read_session(engine) for _ in range(how_many)]
    for session in sessions:
        session.execute(text("SELECT 1"))
    for session in sessions:
        session.close()
    assert engine.pool.checkedin() == how_many


def _every_kind_of_session_works(engine) -> None:
    for _ in range(4):  # more than the pool holds: every stale connection gets checked out
        with db.read_session(engine) as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
    with db.transaction(engine) as session:
        session.add(_beat("after"))
    assert _heartbeats(engine) == 1


def test_connections_the_server_terminated_are_replaced_unseen(pg_url):
    engine = db.make_engine(pg_url)
    db.create_schema(engine)
    _use_pooled_connections(engine, 3)
    admin = db.make_engine(pg_url)
    with admin.connect() as conn:
        ended = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert ended >= 3
    _every_kind_of_session_works(engine)
    engine.dispose()


@pytest.fixture
def own_postgres_server():
    """A server of this test's own, since it gets restarted; commits wait for the disk, so
    the schema made before the crash is there after it."""
    server = PostgresServer(synchronous_commit=True)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_a_restarted_server_is_survived_without_an_error(own_postgres_server):
    url = own_postgres_server.new_database()
    engine = db.make_engine(url)
    db.create_schema(engine)
    _use_pooled_connections(engine, 3)
    own_postgres_server.crash()
    own_postgres_server.start_again()
    _every_kind_of_session_works(engine)
    engine.dispose()


def test_a_forked_worker_opens_its_own_connections(pg_url):
    """As gunicorn --preload forks workers from a master that used the engine."""
    import os
    engine = db.make_engine(pg_url)
    db.create_schema(engine)
    with db.read_session(engine) as session:
        parent_backend = session.execute(text("SELECT pg_backend_pid()")).scalar()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: report the server process it talks to, then leave at once
        code = 1
        try:
            with db.read_session(engine) as session:
                backend = session.execute(text("SELECT pg_backend_pid()")).scalar()
            os.write(write, str(backend).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(child, 0)
    child_backend = int(os.read(read, 64).decode() or 0)
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_backend not in (0, parent_backend)
    with db.read_session(engine) as session:  # the parent's pooled connection still works
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() == parent_backend
    engine.dispose()


def test_postgresql_connections_compile_no_statement_just_in_time(pg_url):
    """JIT compilation (30 ms to a second) is for statements that run for seconds; every one
    here runs in a millisecond, and a misestimated plan crossed jit_above_cost. Options the
    URL gives are kept."""
    separator = "&" if "?" in pg_url else "?"
    engine = db.make_engine(f"{pg_url}{separator}options=-c%20statement_timeout%3D5000")
    with db.read_session(engine) as session:
        assert session.scalar(text("SHOW jit")) == "off"
        assert session.scalar(text("SHOW statement_timeout")) == "5s"
    engine.dispose()
