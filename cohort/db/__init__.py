"""Engine and session handling. The database layer persists; it does not decide.

It sits above the models: `create_schema` and the migration runner (`db.migrate`) know the
tables, while the models know nothing of engines (their column types are in models/types.py).
"""

from __future__ import annotations

import hashlib
import os
import select
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import String, event, exc, literal
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, SQLModel, create_engine

from . import revisions

# Named constraints, so migrations can refer to them (SQLite batch mode needs names to drop or
# change one). Index names are SQLAlchemy's default, written out.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A pooled server connection older than this is replaced instead of reused: it covers what the
# check-out test below cannot see, a connection a firewall or NAT dropped without a word.
POOL_RECYCLE_SECONDS = 1800


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pool_pre_ping: its "SELECT 1" (plus the BEGIN it opens) was two round trips on every
    # check-out, two or three check-outs per request. `_drop_if_server_hung_up` keeps its
    # guarantee for a restarted server without touching the network; a connection that dies
    # in the middle of a request makes SQLAlchemy invalidate the whole pool (its default), so
    # the next request starts on fresh connections.
    engine = create_engine(url, pool_recycle=POOL_RECYCLE_SECONDS,
                           connect_args={"options": _server_options(url)})
    event.listen(engine, "checkout", _drop_if_server_hung_up)
    event.listen(engine, "connect", _read_server_commit_setting)
    _forget_pool_in_forked_children(engine)
    return engine


# Session settings sent with every new PostgreSQL connection (in its startup message: no round
# trip). No JIT compilation: it pays off for queries that run for seconds, while every statement
# here runs in a millisecond or less. It starts above a plan cost (jit_above_cost, 100,000) that
# a misestimated plan reaches: the dashboard's figures, estimated at millions of rows when their
# aggregates were joined, spent 30 ms to a second compiling a statement that ran in 0.5 ms.
SERVER_OPTIONS = "-c jit=off"


def _server_options(url: str) -> str:
    """SERVER_OPTIONS after any `options` the database URL gives (theirs are kept)."""
    given = make_url(url).query.get("options")
    if isinstance(given, tuple):
        given = " ".join(given)
    return f"{given} {SERVER_OPTIONS}" if given else SERVER_OPTIONS


def constant(value: str | int) -> BindParameter:
    """A fixed value of a statement (a status, a state, a threshold), written into its SQL
    rather than sent as a parameter (`column != db.constant("cancelled")`).

    psycopg prepares a statement on the server once a connection has run it five times, and
    PostgreSQL then plans it once for any parameter values (a generic plan) when that looks no
    dearer than planning each call. Blind to a bound value, the planner guesses from the
    column's statistics: `meeting.status <> $1`, where every meeting has one status, looked
    like no row at all, and the dashboard's follow-up count probed the attendance index once
    per meeting of the installation (4-8 ms instead of 0.3). Written into the SQL the value is
    known to every plan, prepared or not; values that change from call to call stay bound."""
    return literal(value, literal_execute=True)


def upsert(session) -> Callable:
    """The dialect's `insert`, whose statements have ON CONFLICT clauses
    (`on_conflict_do_nothing`, `on_conflict_do_update`): both databases have them, under the
    same names, but SQLAlchemy's generic insert does not."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert


def _forget_pool_in_forked_children(engine: Engine) -> None:
    """A gunicorn worker forked from a master that already used the engine (--preload) must
    not talk over the master's sockets: in the child the pool starts empty, leaving the
    parent's connections open for the parent (SQLAlchemy's dispose(close=False) recipe)."""
    ref = weakref.ref(engine)

    def after_fork_in_child() -> None:
        forked = ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork_in_child)


def _drop_if_server_hung_up(dbapi_connection, _record, _proxy) -> None:
    """Refuse a pooled connection the server has closed (restart, crash, idle timeout,
    pg_terminate_backend): an idle connection between transactions is sent nothing, so a
    socket with something to read holds the server's goodbye or the end of the stream.
    Raising DisconnectionError makes the pool discard it and connect again (up to three
    times) before the request sees it. One poll(2) with no timeout: no round trip."""
    if dbapi_connection.closed:
        raise exc.DisconnectionError("connection closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed this pooled connection")


class text_digest(FunctionElement):  # noqa: N801 (a SQL function, named like one)
    """The SHA-256 of a text (its UTF-8 bytes) in hexadecimal, computed by the database: a
    page that needs to know which of a few long texts a row holds (a cohort's programme
    snapshot, tens of kilobytes) reads 64 characters instead (`services._lookup`)."""

    type = String()
    inherit_cache = True


@compiles(text_digest, "postgresql")
def _text_digest_postgresql(element, compiler, **kw) -> str:
    text = compiler.process(element.clauses, **kw)
    return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"


@compiles(text_digest, "sqlite")
def _text_digest_sqlite(element, compiler, **kw) -> str:
    return f"cohort_sha256({compiler.process(element.clauses, **kw)})"


def sha256_hex(text: str | None) -> str | None:
    """text_digest in Python (and SQLite's cohort_sha256)."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.create_function("cohort_sha256", 1, sha256_hex, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA synchronous={SQLITE_DURABLE}")  # SQLite's default, written out
    cursor.close()


# What a commit waits for. A commit that waits for the disk (the default) is on the disk when
# it returns; one that does not is written (other connections see it at once, and it survives
# our process dying) but may be lost if the machine (SQLite) or the database server
# (PostgreSQL) crashes before the log reaches the disk. Both databases append every commit
# to one log and recover a prefix of it, so the next commit that does wait makes every
# earlier one durable with it: an SQLite commit at synchronous=FULL syncs the write-ahead log
# file, which holds the earlier commits' frames too (and a checkpoint syncs the log before
# copying it), and a PostgreSQL synchronous commit flushes the log up to its own commit
# record, past every earlier one. The outbox (mail/outbox/record.py) and the survey answer's
# claim (services/surveys.submit_response) use this (docs/architecture.md, "Commits that do
# not wait for the disk").
SQLITE_DURABLE, SQLITE_NOT_WAITING = "FULL", "NORMAL"


def wait_for_disk(connection: Connection, wait: bool) -> None:
    """Make the commits on `connection` wait for the disk (`wait`, the app's setting, which
    a connection must have again before it goes back to the pool) or not.

    SQLite: `PRAGMA synchronous` (FULL or NORMAL), which SQLite refuses inside a transaction,
    so set it before the transaction begins. PostgreSQL: `synchronous_commit` for the
    session (off, or RESET to the server's setting), one round trip each; nothing where the
    server's own setting is off already (`server_commits_wait`), such as the throwaway
    servers of the tests and benchmarks, whose commits wait for nothing."""
    if connection.dialect.name == "sqlite":
        level = SQLITE_DURABLE if wait else SQLITE_NOT_WAITING
        connection.exec_driver_sql(f"PRAGMA synchronous={level}")
    elif connection.dialect.name == "postgresql" and server_commits_wait(connection):
        connection.exec_driver_sql("RESET synchronous_commit" if wait
                                   else "SET synchronous_commit TO off")


def server_commits_wait(connection: Connection) -> bool:
    """Whether the PostgreSQL server's own setting makes a commit on this connection wait
    (synchronous_commit other than off, for its database and role): read once per pooled
    connection when it is opened (`make_engine`), before `wait_for_disk` can change it.
    Should the server's setting change while the connection is pooled, a commit meant not to
    wait may wait, or a round trip is spent for nothing; a commit meant to wait never skips
    it."""
    known = connection.info.get(_SERVER_COMMITS_WAIT)
    if known is None:  # an engine not made by make_engine
        setting = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        known = connection.info[_SERVER_COMMITS_WAIT] = setting != "off"
    return known


_SERVER_COMMITS_WAIT = "cohort.server_commits_wait"


def _read_server_commit_setting(dbapi_connection, record) -> None:
    """`server_commits_wait`'s setting, read as a new connection is opened."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SHOW synchronous_commit")
        record.info[_SERVER_COMMITS_WAIT] = cursor.fetchone()[0] != "off"
    finally:
        cursor.close()
    if not dbapi_connection.autocommit:
        dbapi_connection.rollback()  # SHOW began a transaction


@contextmanager
def commits_not_waiting(connection: Connection) -> Iterator[Connection]:
    """Commits on `connection` do not wait for the disk while the block runs; the app's
    setting again after it, also when it raises (`wait_for_disk`). Only for commits that a
    commit waiting for the disk follows before anyone is told they were made."""
    wait_for_disk(connection, False)
    try:
        yield connection
    finally:
        if not connection.invalidated:  # a lost connection is not pooled again
            try:
                wait_for_disk(connection, True)
            except exc.DBAPIError:
                if not connection.invalidated:  # lost now: what the block did stands
                    raise


def create_schema(engine: Engine) -> None:
    """All tables at once, for tests and benchmarks; deployments run the migrations
    (cohort/db/migrate.py), which tests/db/test_migrate.py proves give the same schema."""
    from .. import models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        revisions.install(connection, revisions.cohort_paths(SQLModel.metadata))


class ReadSession(Session):
    """A session for pages that only read: its connection runs in autocommit, so no BEGIN
    before the first statement and no ROLLBACK after the last, two round trips saved on
    PostgreSQL per session. Each statement sees the data committed when it starts, which is
    what a transaction at PostgreSQL's default isolation (READ COMMITTED) gives as well.
    Writing through it raises: a unit of work belongs in `transaction`."""


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session, _context, _instances) -> None:
    raise exc.InvalidRequestError("a read session does not write; use db.transaction")


@event.listens_for(ReadSession, "do_orm_execute")
def _refuse_write_statements(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise exc.InvalidRequestError("a read session does not write; use db.transaction")


_autocommit_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def read_session(engine: Engine) -> ReadSession:
    """A ReadSession (use as `with db.read_session(engine) as session:`)."""
    if engine.dialect.name == "sqlite":  # pysqlite begins no transaction for a SELECT anyway
        return ReadSession(engine, expire_on_commit=False)
    return ReadSession(_autocommit(engine), expire_on_commit=False)


def single_statement_session(engine: Engine) -> Session:
    """A session whose every statement is its own transaction, committed when it ends (use
    as `with db.single_statement_session(engine) as session:`): for a unit of work that is
    one statement, such as a conditional UPDATE, which then needs no BEGIN and no COMMIT
    round trip on PostgreSQL. What a statement wrote stays written even if the block raises
    later: only a single write belongs here, anything more in `transaction`."""
    return Session(_autocommit(engine), expire_on_commit=False)


def _autocommit(engine: Engine) -> Engine:
    autocommit = _autocommit_engines.get(engine)
    if autocommit is None:  # a view of the same engine and pool, made once
        autocommit = _autocommit_engines[engine] = engine.execution_options(
            isolation_level="AUTOCOMMIT")
    return autocommit


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back entirely on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
