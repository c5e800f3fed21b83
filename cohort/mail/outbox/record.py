"""The database side of a pass: commits that wait for the disk (claims) and commits that do
not (hand-overs and results), each sender thread's unwritten result, the journal of fast
commits not yet made durable, and waiting for a database that went away.

A sender keeps at most one email's result unwritten: it is written with that thread's next
hand-over, in the same commit (or at the end of the batch). So a crash leaves at most one
accepted-but-unrecorded email per sender thread, still `sending`: it becomes needs_review,
never sent again on its own (tests/mail/test_dispatch_processes.py counts them).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC
from typing import TypeVar

from sqlalchemy import bindparam, or_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ... import db
from ...core import deliveries as kinds
from ...models import Delivery

log = logging.getLogger("cohort.mail.dispatch")
T = TypeVar("T")


class PerThread:
    """An attribute each thread of the dispatcher has its own value of."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, dispatcher, owner=None):
        return getattr(dispatcher._local, self.name, None)

    def __set__(self, dispatcher, value) -> None:
        setattr(dispatcher._local, self.name, value)



class Recorder:
    """The database steps of a Dispatcher (its __init__ sets engine, dialect, _local,
    _journal, _journal_lock and _sqlite_writer)."""

    _unwritten: list[tuple[int, str, dict]] | None = PerThread()  # this thread's last result
    _fast_connection: Connection | None = PerThread()  # this thread's fast-commit connection

    def _result(self, group: list[Delivery], token: str, values: dict) -> None:
        """Record what the mail server said for every row of one email, with the next
        hand-over or at the end of the batch. Keyed by our claim token, so it lands even if
        another pass has meanwhile flagged the rows as needs_review (we know better)."""
        self._write_unwritten()  # never more than one email's results waiting
        self._unwritten = [(d.id, token, values) for d in group]

    def _write_unwritten(self) -> None:
        if not self._unwritten:
            return
        if self.dialect == "postgresql":
            sql, arguments = pg_statement(None, self._unwritten)
            self._on_fast_connection(sql, arguments)
        else:
            with self._transaction(durable=False) as conn:
                for entry in self._unwritten:
                    write_result(conn, *entry)
        with self._journal_lock:
            self._journal.extend(self._unwritten)
        self._unwritten = None

    def _write_hand_over(self, group: list[Delivery], token: str, mid: str,
                         unwritten: list[tuple[int, str, dict]]) -> list[Delivery]:
        """claimed -> sending for the rows of one email, and the previous email's results,
        in one commit that does not wait for the disk: the rows handed over.

        On PostgreSQL this is ONE statement (the results in a WITH clause) on a connection in
        autocommit mode: one round trip to the server per email instead of four (BEGIN, two
        UPDATEs, COMMIT). A single statement is atomic, as the transaction was."""
        if self.dialect == "postgresql":
            sql, arguments = pg_statement((group, token, mid), unwritten)
            if len(group) == 1:  # the common email: its one row, or nothing, was handed over
                return group if self._on_fast_connection(sql, arguments) else []
            handed = set(self._on_fast_connection(sql, arguments, returning=True))
            return [d for d in group if d.id in handed]
        with self._transaction(durable=False) as conn:
            for entry in unwritten:
                write_result(conn, *entry)
            return [d for d in group if HAND_OVER.execute(conn, dict(
                b_id=d.id, b_token=token, b_attempts=d.attempts + 1, b_message_id=mid))]

    def _release(self, tokens: list[str]) -> None:
        """Claimed rows we did not hand over go back to pending for the next pass."""
        with self._transaction(durable=False) as conn:
            for start in range(0, len(tokens), 500):
                conn.execute(update(Delivery).where(
                    Delivery.claim_token.in_(tokens[start:start + 500]),
                    Delivery.state == kinds.CLAIMED,
                ).values(state=kinds.PENDING, claimed_at=None, claimed_by=None,
                         claim_token=None))

    # -- the database -------------------------------------------------------------------------

    def _on_fast_connection(self, sql: str, arguments: dict, returning: bool = False):
        """One statement on PostgreSQL's fast connection (autocommit: the statement is its
        own transaction, committed by the server with no BEGIN or COMMIT of ours), on the
        driver's cursor (`run_on_driver`): SQLAlchemy's transaction around it would only add
        Python work on the sender threads."""
        conn = self._fast()
        try:
            return run_on_driver(conn, sql, arguments, returning=returning)
        except (OperationalError, InterfaceError):
            self._drop_fast_connection()
            raise

    @contextmanager
    def _transaction(self, durable: bool) -> Iterator[Connection]:
        """A transaction that waits for the disk at commit (durable) or does not."""
        with self._sqlite_writer or nullcontext():
            if durable:
                with self.engine.begin() as conn:
                    yield conn
                return
            conn = self._fast()
            try:
                with conn.begin():
                    yield conn
            except (OperationalError, InterfaceError):
                self._drop_fast_connection()
                raise

    def _fast(self) -> Connection:
        """The pass's own connection for commits that do not wait for the disk. On PostgreSQL
        it is in autocommit mode: every write made on it is one statement (`_write_hand_over`,
        `_write_unwritten`, `_release`'s chunks, each complete in itself), committed without
        a BEGIN and COMMIT round trip of its own."""
        if self._fast_connection is None:
            conn = self.engine.connect()
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            db.wait_for_disk(conn, False)  # outside a transaction (SQLite's rule)
            if self.dialect == "sqlite":
                # Write-ahead log checkpoints (which wait for the disk) happen on the other
                # thread's commits, not in the middle of sending.
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            conn.commit()
            self._fast_connection = conn
        return self._fast_connection

    def _drop_fast_connection(self, reset: bool = False) -> None:
        conn, self._fast_connection = self._fast_connection, None
        if conn is None:
            return
        try:
            if reset:  # back to the pool with the app's settings
                conn.rollback()
                db.wait_for_disk(conn, True)
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                conn.commit()
            else:
                conn.invalidate()
            conn.close()
        except (OperationalError, InterfaceError):
            conn.invalidate()

    def _retrying(self, operation: Callable[[], T]) -> T:
        """Run a database step; if the database is unreachable, wait for it (with backoff, up
        to OUTBOX_DATABASE_RETRY_SECONDS), write the journal again, and retry the step."""
        deadline = time.monotonic() + self.settings.database_retry
        pause = 0.2
        while True:
            try:
                return operation()
            except (OperationalError, InterfaceError) as exc:
                if not self._unavailable(exc) or time.monotonic() + pause > deadline:
                    raise
                log.warning("database unavailable (%s); trying again in %.1f s",
                            one_line_error(exc), pause)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)
                try:
                    self._replay_journal()
                except (OperationalError, InterfaceError):
                    continue

    def _unavailable(self, exc: OperationalError | InterfaceError) -> bool:
        """A lost connection, a busy SQLite file or a server that does not answer; not a
        mistake such as a missing table (that is raised at once)."""
        if exc.connection_invalidated or "locked" in str(exc.orig) or "busy" in str(exc.orig):
            return True
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (OperationalError, InterfaceError):
            return True
        return False

    def _replay_journal(self) -> None:
        with self._journal_lock:
            entries = list(self._journal)
        if not entries:
            return
        with self._transaction(durable=True) as conn:
            for delivery_id, token, values in entries:
                write_result(conn, delivery_id, token, values)
        with self._journal_lock:
            del self._journal[:len(entries)]
        log.info("wrote %d outbox updates again after the database came back", len(entries))


def write_result(conn: Connection, delivery_id: int, token: str, values: dict) -> None:
    if values.keys() == _RESULT_COLUMNS:  # the common case, with a ready-made statement
        _RESULT.execute(conn, {"b_id": delivery_id, "b_token": token,
                               **{f"b_{k}": v for k, v in values.items()}})
        return
    conn.execute(update(Delivery).where(Delivery.id == delivery_id,
                                        Delivery.claim_token == token).values(**values))


class DriverStatement:
    """One of the two UPDATEs of every email (hand-over, result) on SQLite, and the journal's
    result on both databases, compiled once per dialect and run on the driver's cursor,
    inside the connection's transaction (PostgreSQL's per-email statement: `pg_statement`).

    SQLAlchemy's work per execution (cache key, parameters, result set-up: ~0.1 ms) costs more
    than such an UPDATE by primary key, and a pass makes two per email on the sender threads,
    competing for the interpreter with composing. Values still go through the columns' bind
    processors (UTCDateTime's UTC conversion), and the driver's errors are raised as
    SQLAlchemy's (OperationalError, ...), as `_retrying` and `_transaction` expect.
    """

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple] = {}

    def execute(self, conn: Connection, params: dict) -> int:
        """The number of rows it changed."""
        dialect = conn.dialect
        if dialect.name not in self._compiled:
            compiled = self.statement.compile(dialect=dialect)
            processors = tuple((name, process) for name, bind in compiled.binds.items()
                               if name in compiled.params
                               and (process := bind.type.dialect_impl(dialect)
                                    .bind_processor(dialect)))
            self._compiled[dialect.name] = (compiled.string, compiled.positiontup
                                            if compiled.positional else None,
                                            dict(compiled.params), processors)
        sql, positions, constants, processors = self._compiled[dialect.name]
        values = {**constants, **params}
        for name, process in processors:
            values[name] = process(values[name])
        arguments = [values[name] for name in positions] if positions else values
        return run_on_driver(conn, sql, arguments)


def run_on_driver(conn: Connection, sql: str, arguments, returning: bool = False):
    """`sql` on the driver's cursor of `conn`: the number of rows it changed, or with
    `returning` the first column of the rows it returned. The driver's errors are raised as
    SQLAlchemy's (OperationalError, ...), as `_retrying` and `_transaction` expect."""
    dialect = conn.dialect
    raw = conn.connection.dbapi_connection
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, arguments)
            return [row[0] for row in cursor.fetchall()] if returning else cursor.rowcount
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, arguments, exc, dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(exc, raw, None),
            dialect=dialect) from exc


# The two statements of every email, built once (building a statement costs more than
# running it on SQLite).
def _bound(column: str):
    return bindparam(f"b_{column}", type_=Delivery.__table__.c[column].type)


HAND_OVER = DriverStatement(update(Delivery).where(
    Delivery.id == _bound("id"), Delivery.claim_token == bindparam("b_token"),
    or_(Delivery.state == kinds.CLAIMED, Delivery.state == kinds.SENDING),
).values(state=kinds.SENDING, attempts=_bound("attempts"), message_id=_bound("message_id")))
_RESULT_COLUMNS = {"state", "sent_at", "retry_at", "last_code", "last_error"}
_RESULT = DriverStatement(update(Delivery).where(
    Delivery.id == _bound("id"), Delivery.claim_token == bindparam("b_token"),
).values(**{column: _bound(column) for column in sorted(_RESULT_COLUMNS)}))


# PostgreSQL: the hand-over of one email's rows and the previous email's results, each one
# statement (see Recorder._write_hand_over). `attempts` per row, as given (a statement run
# again after a lost connection must not count an attempt twice). Most emails are one row:
# their statements name it by a scalar parameter. With arrays (`= ANY`, `unnest` joined to
# the table) the same hand-over and result cost the server 0.28-0.38 ms of CPU per statement
# and the sender thread 0.14-0.19 ms, by scalars 0.09-0.18 and 0.04-0.11 ms (1,500 statements
# in a row on the outbox benchmark's database, the backend's CPU read from /proc; 2026-12-07).
_PG_RESULT_SET = ("state = %(r_state)s, sent_at = %(r_sent_at)s, retry_at = %(r_retry_at)s, "
                  "last_code = %(r_last_code)s, last_error = %(r_last_error)s")
_PG_ONE_RESULT = (f"UPDATE delivery SET {_PG_RESULT_SET} "
                  "WHERE id = %(r_id)s AND claim_token = %(r_token)s")
_PG_RESULTS = (f"UPDATE delivery SET {_PG_RESULT_SET} "
               "WHERE id = ANY(%(r_ids)s::bigint[]) AND claim_token = %(r_token)s")
_HANDED_OVER_STATES = f"('{kinds.CLAIMED}', '{kinds.SENDING}')"
_PG_ONE_HAND_OVER = (
    f"UPDATE delivery SET state = '{kinds.SENDING}', attempts = %(h_attempts)s, "
    "message_id = %(h_message_id)s WHERE id = %(h_id)s AND claim_token = %(h_token)s "
    f"AND state IN {_HANDED_OVER_STATES}")
_PG_HAND_OVERS = (
    f"UPDATE delivery SET state = '{kinds.SENDING}', attempts = h.attempts, "
    "message_id = %(h_message_id)s "
    "FROM unnest(%(h_ids)s::bigint[], %(h_attempts)s::integer[]) AS h(id, attempts) "
    "WHERE delivery.id = h.id AND delivery.claim_token = %(h_token)s "
    f"AND delivery.state IN {_HANDED_OVER_STATES} RETURNING delivery.id")


def pg_statement(hand_over: tuple[list[Delivery], str, str] | None,
                 results: list[tuple[int, str, dict]]) -> tuple[str, dict]:
    """The one statement, and its arguments, that hands over one email's rows (`hand_over`:
    rows, claim token, Message-ID) and writes the previous email's `results` (the rows of
    one email, sharing the token and the values: Recorder._result); either may be missing.
    A one-row hand-over's statement reports the rows it changed (the driver's rowcount), a
    hand-over of several returns their ids."""
    statements, arguments = [], {}
    if results:
        statements.append(_PG_ONE_RESULT if len(results) == 1 else _PG_RESULTS)
        arguments.update(_pg_result_arguments(results))
    if hand_over is not None:
        group, token, mid = hand_over
        arguments.update(h_token=token, h_message_id=mid)
        if len(group) == 1:
            statements.append(_PG_ONE_HAND_OVER)
            arguments.update(h_id=group[0].id, h_attempts=group[0].attempts + 1)
        else:
            statements.append(_PG_HAND_OVERS)
            arguments.update(h_ids=[d.id for d in group],
                             h_attempts=[d.attempts + 1 for d in group])
    if not statements:
        raise ValueError("nothing to write")
    if len(statements) == 1:
        return statements[0], arguments
    return f"WITH result AS ({statements[0]}) {statements[1]}", arguments


def _pg_result_arguments(entries: list[tuple[int, str, dict]]) -> dict:
    """One email's results (its rows share the token and the values, Recorder._result) as
    the arguments of the result statement."""
    _id, token, values = entries[0]
    if values.keys() != _RESULT_COLUMNS or any(t != token or v != values
                                               for _i, t, v in entries):
        raise ValueError(f"not one email's results: {entries!r}")
    arguments = {f"r_{name}": value for name, value in values.items()}
    for name in ("r_sent_at", "r_retry_at"):  # as UTCDateTime stores them
        if arguments[name] is not None:
            arguments[name] = arguments[name].astimezone(UTC)
    ids = [i for i, _t, _v in entries]
    return {**arguments, "r_token": token,
            **({"r_id": ids[0]} if len(ids) == 1 else {"r_ids": ids})}


def one_line_error(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1][:500]
