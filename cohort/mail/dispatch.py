"""The only code that sends email: one pass over the outbox's due rows.

A pass works in batches. It CLAIMS up to BATCH due rows at once (pending -> claimed, one
committed transaction that waits for the disk: a claim is never lost) and composes their
emails in one database session (mail.compose.Lookups reads the batch's rows at once; rows
that end without an email become cancelled, skipped or failed there). Sender threads then take each
email: HAND IT OVER (claimed -> sending, guarded by the claim token), talk to the mail server,
and record the result (sent, failed, or pending again with a retry time) while the pass
composes the next batch. Rows of a batch never handed over (the mail server went away) go back
to pending at the end of the pass.

Several dispatchers can run at once, on one machine or several: on PostgreSQL the claim is
`SELECT ... FOR UPDATE SKIP LOCKED`, so each takes rows nobody else is taking; on SQLite,
writers take turns and the claim's `state = 'pending'` condition makes it atomic. A claimed
row belongs to its claim token: nobody else hands it over, so nothing is sent twice.

Hand-overs and results are committed without waiting for the disk (SQLite synchronous=NORMAL,
PostgreSQL synchronous_commit=off): that is what makes a pass fast, and it is safe, because
such commits survive our process dying and are lost only if the database's machine (SQLite) or
server (PostgreSQL) crashes. The next durable claim makes them durable too. A crash can leave:
- `sending` rows: the message may or may not have arrived. They become `needs_review` and are
  never sent again on their own: the facilitator decides. At most one per sender thread
  (SENDERS per dispatcher).
- `claimed` rows: never handed over, so they go back to pending, unless the database restarted
  since the claim (then a hand-over may have been lost with it, and they need review too).
A claimer is gone when it is a dead process on this host, or when its claim is older than
OUTBOX_STALE_AFTER_SECONDS (other hosts). If the database goes away during a pass, the
dispatcher waits for it (OUTBOX_DATABASE_RETRY_SECONDS) and writes again what it had not yet
seen committed durably.

Times: `now` is the logical time deciding what is due (tests and `send-due --now` pass it);
claims are stamped with the wall clock (PostgreSQL's own there), because staleness is about
real processes.
The scheduler's job and `cohort send-due` both call `send_due`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from queue import Queue
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy import and_, bindparam, exists, false, func, or_, select, tuple_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from .. import db
from ..core import deliveries as kinds
from ..core.sending import RetryPolicy, SendFailure, message_id, outcome_of_failure, skip_reason
from ..models import Cohort, CohortMailSettings, Delivery
from .compose import (
    Lookups,
    MailContext,
    Undeliverable,
    bundle_data,
    message_data,
)
from .render import build_outgoing
from .transport import MailError, Transport, open_transport, parse_mail_url

log = logging.getLogger("cohort.mail.dispatch")
BATCH = 100  # rows per durable claim: the disk waits once for this many emails
# Sender threads, each with its own SMTP connection: while one waits for the mail server's
# reply the other talks. At most this many emails of a dispatcher are ever in flight.
SENDERS = 2
T = TypeVar("T")


@dataclass(frozen=True)
class OutboxSettings:
    mail_url: str
    mail_from: str
    context: MailContext
    retry: RetryPolicy
    overdue_limit: timedelta
    stale_after: timedelta
    smtp_timeout: float
    database_retry: float = 120.0

    @classmethod
    def from_app(cls, app: Flask) -> OutboxSettings:
        c = app.config
        domain = c.get("MAIL_MESSAGE_ID_DOMAIN") or \
            parseaddr(c["MAIL_FROM"])[1].rpartition("@")[2] or "cohort.invalid"
        return cls(
            mail_url=c["MAIL_URL"], mail_from=c["MAIL_FROM"],
            context=MailContext(c["BASE_URL"], c["MAIL_FROM"], c["SECRET_KEY"], domain),
            retry=RetryPolicy(c["OUTBOX_MAX_ATTEMPTS"],
                              timedelta(seconds=c["OUTBOX_RETRY_BASE_SECONDS"]),
                              timedelta(seconds=c["OUTBOX_RETRY_CAP_SECONDS"])),
            overdue_limit=timedelta(hours=c["OUTBOX_OVERDUE_LIMIT_HOURS"]),
            stale_after=timedelta(seconds=c["OUTBOX_STALE_AFTER_SECONDS"]),
            smtp_timeout=c["OUTBOX_SMTP_TIMEOUT_SECONDS"],
            database_retry=c["OUTBOX_DATABASE_RETRY_SECONDS"],
        )


@dataclass
class PassReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    needs_review: int = 0
    stopped: str | None = None  # why the pass ended early (mail server unreachable)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, "
                f"skipped {self.skipped}, cancelled {self.cancelled}, "
                f"needs review {self.needs_review}")
        return f"{text}; stopped early: {self.stopped}" if self.stopped else text


def send_due(app: Flask | None = None, now: datetime | None = None,
             cohort_id: int | None = None, limit: int | None = None) -> PassReport:
    """One pass: everything due at `now` (default: the current time). Needs an app context
    (the scheduler's job and the CLI have one)."""
    app = app or current_app._get_current_object()
    dispatcher = Dispatcher(app.extensions["cohort.engine"], OutboxSettings.from_app(app))
    return dispatcher.run(now or datetime.now(UTC), cohort_id=cohort_id, limit=limit)


def worker_name() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


class _PerThread:
    """An attribute each thread of the dispatcher has its own value of."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, dispatcher, owner=None):
        return getattr(dispatcher._local, self.name, None)

    def __set__(self, dispatcher, value) -> None:
        setattr(dispatcher._local, self.name, value)


class Dispatcher:
    # Each sender thread's SMTP connection, database connection and unwritten result.
    _transport: Transport | None = _PerThread()
    _unwritten: list[tuple[int, str, dict]] | None = _PerThread()
    _fast_connection: Connection | None = _PerThread()

    def __init__(self, engine: Engine, settings: OutboxSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = worker_name()
        self.dialect = engine.dialect.name
        self._local = threading.local()
        # Hand-overs and results committed since the last durable commit: written again if the
        # database goes away, since a crashed server may have lost them.
        self._journal: list[tuple[int, str, dict]] = []
        self._journal_lock = threading.Lock()
        self._report_lock = threading.Lock()
        # SQLite has one writer at a time, and a connection that finds the lock taken sleeps in
        # steps of milliseconds (its busy handler) before it tries again: the pass's own
        # threads take turns here instead, and the next one starts the moment the lock is free.
        self._sqlite_writer = threading.RLock() if self.dialect == "sqlite" else None
        self._failure: BaseException | None = None  # what stopped the sender thread
        self._invitations: dict = {}  # the pass's meeting invitations (compose.Lookups)

    def run(self, now: datetime, cohort_id: int | None = None,
            limit: int | None = None) -> PassReport:
        """Claim and compose here while sender threads hand over and send: composing the next
        emails overlaps with waiting for the mail server and the disk."""
        report = PassReport()
        report.needs_review = self._retrying(self.flag_interrupted)
        report.skipped = self._retrying(lambda: self.skip_overdue(now, cohort_id))
        settled: Counter[str] = Counter()
        tokens: list[str] = []
        queue: Queue = Queue(maxsize=BATCH)
        self._failure = None
        senders = [threading.Thread(target=self._sender, args=(queue, now, report),
                                    name=f"cohort-outbox-sender-{n}", daemon=True)
                   for n in range(SENDERS)]
        for sender in senders:
            sender.start()
        queued = 0
        try:
            while (limit is None or queued < limit) and not self._halted(report):
                size = BATCH if limit is None else min(BATCH, limit - queued)
                token = uuid.uuid4().hex
                ids = self._retrying(
                    lambda s=size, t=token: self._claim(now, cohort_id, s, t))
                if not ids:
                    break
                tokens.append(token)
                prepared = self._retrying(lambda i=ids, t=token: self._compose(i, t, now))
                for group, message in prepared:
                    if isinstance(message, _Settle):
                        settled[message.counter] += len(group)
                    elif not self._halted(report):
                        queue.put((group, token, message))
                        queued += 1
        finally:
            for _ in senders:
                queue.put(None)
            for sender in senders:
                sender.join()
            if tokens:  # what was claimed but never handed over goes back to pending
                self._retrying(lambda: self._release(tokens))
            self._drop_fast_connection(reset=True)
        for counter, count in settled.items():
            setattr(report, counter, getattr(report, counter) + count)
        if self._failure is not None:
            raise self._failure
        return report

    def _halted(self, report: PassReport) -> bool:
        return bool(report.stopped) or self._failure is not None

    def _sender(self, queue: Queue, now: datetime, report: PassReport) -> None:
        """A sender thread: hand over, send, record, one email at a time. After a failure it
        only empties the queue (the rows stay claimed and are released)."""
        try:
            while (item := queue.get()) is not None:
                if self._halted(report):
                    continue
                group, token, message = item
                try:
                    if self._retrying(lambda g=group, t=token: self._hand_over(g, t)):
                        self._send(group, token, message, now, report)
                    # else: released by another dispatcher meanwhile, not ours any more
                except BaseException as exc:  # handed to the main thread, raised there
                    self._failure = exc
            try:
                self._retrying(self._write_unwritten)
            except BaseException as exc:
                self._failure = self._failure or exc
        finally:
            self._close_transport()
            self._drop_fast_connection(reset=True)

    # -- housekeeping -------------------------------------------------------------------------

    def flag_interrupted(self) -> int:
        """Rows a gone dispatcher left: `sending` ones need review (never resent); `claimed`
        ones go back to pending unless the database restarted since they were claimed."""
        wall = datetime.now(UTC)
        started = database_started_at(self.engine)
        with self.engine.begin() as conn:
            claimers = set(conn.scalars(select(Delivery.claimed_by).where(
                Delivery.state.in_((kinds.SENDING, kinds.CLAIMED))).distinct()))
            dead = [c for c in claimers if c and _is_dead_local_worker(c)]
            gone = Delivery.claimed_at < wall - self.settings.stale_after
            if dead:
                gone = or_(gone, Delivery.claimed_by.in_(dead))
            safe = Delivery.claimed_at > started if started is not None else false()
            conn.execute(update(Delivery).where(Delivery.state == kinds.CLAIMED, gone, safe)
                         .values(state=kinds.PENDING, claimed_at=None, claimed_by=None,
                                 claim_token=None))
            flagged = conn.execute(update(Delivery).where(
                Delivery.state.in_((kinds.SENDING, kinds.CLAIMED)), gone,
            ).values(state=kinds.NEEDS_REVIEW, last_error=(
                "interrupted while sending: the message may or may not have arrived; "
                "check with the recipient, then resend or dismiss"))).rowcount
        if flagged:
            log.warning("%d interrupted deliveries need review", flagged)
        return flagged

    def skip_overdue(self, now: datetime, cohort_id: int | None) -> int:
        """Never-tried rows that are far too late (after downtime) are skipped, not sent."""
        limit = self.settings.overdue_limit
        condition = [Delivery.state == kinds.PENDING, Delivery.attempts == 0,
                     Delivery.send_at < now - limit, _cohort_sends()]
        if cohort_id is not None:
            condition.append(Delivery.cohort_id == cohort_id)
        hours = int(limit.total_seconds() // 3600)
        with self.engine.begin() as conn:
            return conn.execute(update(Delivery).where(*condition).values(
                state=kinds.SKIPPED,
                last_error=f"skipped: overdue by more than {hours} hour(s) when the outbox "
                           "ran again")).rowcount

    # -- a batch ------------------------------------------------------------------------------

    def _claim(self, now: datetime, cohort_id: int | None, size: int, token: str) -> list[int]:
        """Reserve up to `size` due rows under `token`, durably. Run again after a lost
        connection, it first takes back what the first try may have claimed already."""
        with self._journal_lock:
            durable_from_here = len(self._journal)
        with self._transaction(durable=True) as conn:
            ids = list(conn.scalars(select(Delivery.id).where(
                Delivery.claim_token == token, Delivery.state == kinds.CLAIMED)))
            if not ids:
                due = select(Delivery.id).where(*_due(now)).order_by(
                    Delivery.send_at, Delivery.id).limit(size)
                if cohort_id is not None:
                    due = due.where(Delivery.cohort_id == cohort_id)
                # PostgreSQL skips rows another dispatcher is claiming at this moment; SQLite
                # has no FOR UPDATE (SQLAlchemy leaves it out) and needs none: one writer at
                # a time, and the state condition makes the claim atomic.
                due = due.with_for_update(skip_locked=True, of=Delivery)
                ids = list(conn.scalars(update(Delivery).where(
                    Delivery.id.in_(due.scalar_subquery()), Delivery.state == kinds.PENDING,
                ).values(state=kinds.CLAIMED, claimed_at=self._clock(),
                         claimed_by=self.worker, claim_token=token).returning(Delivery.id)))
                ids += self._claim_rest_of_bundles(conn, now, token)
        with self._journal_lock:  # a durable commit makes every earlier commit durable too
            del self._journal[:durable_from_here]
        return sorted(ids)

    def _claim_rest_of_bundles(self, conn: Connection, now: datetime, token: str) -> list[int]:
        """A batch ends at BATCH rows, perhaps in the middle of one recipient's bundle: the
        bundle's other due rows (same cohort, recipient and send time: core.deliveries
        .bundle_key) are claimed with it, so it goes as one email."""
        keys = {tuple(row) for row in conn.execute(
            select(Delivery.cohort_id, Delivery.recipient, Delivery.send_at).where(
                Delivery.claim_token == token, Delivery.state == kinds.CLAIMED,
                Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.resend_number == 0))}
        if not keys:
            return []
        rest = select(Delivery.id).where(
            *_due(now), Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.resend_number == 0,
            tuple_(Delivery.cohort_id, Delivery.recipient, Delivery.send_at).in_(sorted(keys)),
        ).with_for_update(skip_locked=True, of=Delivery)
        return list(conn.scalars(update(Delivery).where(
            Delivery.id.in_(rest.scalar_subquery()), Delivery.state == kinds.PENDING,
        ).values(state=kinds.CLAIMED, claimed_at=self._clock(), claimed_by=self.worker,
                 claim_token=token).returning(Delivery.id)))

    def _clock(self):
        """The claim's time stamp. On PostgreSQL the server's clock: it is compared with the
        server's start time (flag_interrupted), which a skewed dispatcher clock could fool."""
        return func.now() if self.dialect == "postgresql" else datetime.now(UTC)

    def _compose(self, ids: list[int], token: str, now: datetime) -> list:
        """Each claimed row's message, or why it ends without one (cancelled, skipped,
        failed), from the rows as they are now; one transaction for the whole batch."""
        with db.transaction(self.engine) as session:
            deliveries = list(session.scalars(select(Delivery).where(
                Delivery.id.in_(ids), Delivery.claim_token == token,
                Delivery.state == kinds.CLAIMED).order_by(Delivery.send_at, Delivery.id)))
            lookups = Lookups(session, self.settings.context, now,
                              invitations=self._invitations)
            lookups.prefetch(deliveries)
            # New personal links are committed at once: on SQLite a write transaction held
            # while composing would keep the sender thread waiting.
            session.commit()
            unsent = _first_emails_not_sent(session, deliveries)
            composed = [(d, _Settle(kinds.SKIPPED, "skipped",
                                    "skipped: its first email was not sent")
                         if (d.id in unsent) else self._prepare(session, d, now, lookups))
                        for d in deliveries]
            prepared = self._bundled(composed, now)
            for group, settle in prepared:  # committed with the batch
                if isinstance(settle, _Settle):
                    for delivery in group:
                        session.execute(update(Delivery).where(
                            Delivery.id == delivery.id, Delivery.claim_token == token,
                            Delivery.state == kinds.CLAIMED,
                        ).values(state=settle.state, last_error=settle.reason))
            return prepared

    def _bundled(self, composed: list, now: datetime) -> list:
        """Rows of one email together (core.deliveries.bundle_key), each email built once:
        [(rows, message or _Settle)]. A row that ends without an email is a group of one."""
        groups: dict[object, list] = {}
        for delivery, data in composed:
            if isinstance(data, _Settle):
                groups[("settle", delivery.id)] = [(delivery, data)]
                continue
            key = kinds.bundle_key(delivery.cohort_id, delivery.kind, delivery.recipient,
                                   delivery.send_at, delivery.resend_number) \
                or ("alone", delivery.id)
            groups.setdefault(key, []).append((delivery, data))
        prepared = []
        for members in groups.values():
            rows = [delivery for delivery, _data in members]
            first = members[0][1]
            if isinstance(first, _Settle):
                prepared.append((rows, first))
                continue
            try:
                message = build_outgoing(bundle_data([data for _d, data in members]), now,
                                         self.settings.mail_from)
            except Exception as exc:
                log.exception("deliveries %s cannot be rendered", [d.id for d in rows])
                message = _Settle(kinds.FAILED, "failed",
                                  f"could not render the message: {_one_line(exc)}")
            prepared.append((rows, message))
        return prepared

    def _prepare(self, session, delivery: Delivery, now: datetime, lookups: Lookups):
        try:
            data = message_data(session, delivery, self.settings.context, now, lookups)
        except Undeliverable as exc:
            return _Settle(kinds.CANCELLED, "cancelled", f"cancelled: {exc}")
        except (OperationalError, InterfaceError):
            raise  # the database went away: compose the batch again when it is back
        except Exception as exc:  # a bug or bad data must not stop the other emails
            log.exception("delivery %s cannot be composed", delivery.id)
            return _Settle(kinds.FAILED, "failed",
                           f"could not compose the message: {_one_line(exc)}")
        # A row already being retried is not "overdue", but can still be too late.
        overdue_limit = self.settings.overdue_limit if delivery.attempts == 0 \
            else timedelta.max
        reason = skip_reason(delivery.kind, delivery.send_at, now, deadline=data.deadline,
                             settled=data.settled, overdue_limit=overdue_limit)
        if reason:
            return _Settle(kinds.SKIPPED, "skipped", f"skipped: {reason}")
        return data

    def _hand_over(self, group: list[Delivery], token: str) -> bool:
        """claimed -> sending for every row of one email, only while the claim is ours;
        committed before we send. The rows share the first row's Message-ID."""
        lead = group[0]
        mid = message_id(lead.id, lead.cohort_id, lead.kind, lead.anchor, lead.recipient,
                         lead.resend_number, self.settings.context.message_id_domain)
        with self._transaction(durable=False) as conn:
            unwritten = self._unwritten or []
            for entry in unwritten:  # the previous email's results, in the same commit
                _write_result(conn, *entry)
            handed = [d for d in group if conn.execute(_HAND_OVER, dict(
                b_id=d.id, b_token=token, b_attempts=d.attempts + 1,
                b_message_id=mid)).rowcount]
        with self._journal_lock:
            self._journal.extend(unwritten)
            self._journal.extend((d.id, token, dict(
                state=kinds.SENDING, attempts=d.attempts + 1, message_id=mid)) for d in handed)
        self._unwritten = None
        return bool(handed)

    def _send(self, group: list[Delivery], token: str, message, now: datetime,
              report: PassReport) -> None:
        try:
            self.transport().send(message)
        except MailError as exc:
            self._record_failure(group, token, exc, now, report)
            return
        self._result(group, token, dict(state=kinds.SENT, sent_at=now, last_code=250,
                                        last_error=None, retry_at=None))  # see _RESULT
        with self._report_lock:  # two sender threads count into one report
            report.sent += len(group)

    def _release(self, tokens: list[str]) -> None:
        """Claimed rows we did not hand over go back to pending for the next pass."""
        with self._transaction(durable=False) as conn:
            for start in range(0, len(tokens), 500):
                conn.execute(update(Delivery).where(
                    Delivery.claim_token.in_(tokens[start:start + 500]),
                    Delivery.state == kinds.CLAIMED,
                ).values(state=kinds.PENDING, claimed_at=None, claimed_by=None,
                         claim_token=None))

    def _record_failure(self, group: list[Delivery], token: str, exc: MailError,
                        now: datetime, report: PassReport) -> None:
        delivery = group[0]
        failure = SendFailure(exc.code, exc.text, exc.permanent)
        outcome = outcome_of_failure(failure, delivery.attempts + 1, now, self.settings.retry)
        self._result(group, token, dict(
            state=outcome.state, sent_at=None, retry_at=outcome.retry_at,
            last_code=outcome.code, last_error=outcome.error))
        log.warning("delivery %s to %s: %s -> %s", [d.id for d in group], delivery.recipient,
                    exc, outcome.state)
        with self._report_lock:
            if exc.unavailable:
                report.stopped = f"mail server unavailable: {exc.text}"
            if outcome.state == kinds.FAILED:
                report.failed += len(group)
                report.errors.extend(
                    f"{d.id}: {outcome.code or ''} {outcome.error}".strip() for d in group)
            else:
                report.retrying += len(group)

    def _result(self, group: list[Delivery], token: str, values: dict) -> None:
        """Record what the mail server said for every row of one email, with the next
        hand-over or at the end of the batch. Keyed by our claim token, so it lands even if
        another pass has meanwhile flagged the rows as needs_review (we know better)."""
        self._write_unwritten()  # never more than one email's results waiting
        self._unwritten = [(d.id, token, values) for d in group]

    def _write_unwritten(self) -> None:
        if not self._unwritten:
            return
        with self._transaction(durable=False) as conn:
            for entry in self._unwritten:
                _write_result(conn, *entry)
        with self._journal_lock:
            self._journal.extend(self._unwritten)
        self._unwritten = None

    # -- the database -------------------------------------------------------------------------

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
        """The pass's own connection for commits that do not wait for the disk."""
        if self._fast_connection is None:
            conn = self.engine.connect()
            if self.dialect == "sqlite":  # a PRAGMA runs outside SQLite's transaction
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                # Write-ahead log checkpoints (which wait for the disk) happen on the other
                # thread's commits, not in the middle of sending.
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            elif self.dialect == "postgresql":
                conn.exec_driver_sql("SET synchronous_commit TO OFF")
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
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("PRAGMA synchronous=FULL")
                    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                elif self.dialect == "postgresql":
                    conn.exec_driver_sql("RESET synchronous_commit")
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
                            _one_line(exc), pause)
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
                _write_result(conn, delivery_id, token, values)
        with self._journal_lock:
            del self._journal[:len(entries)]
        log.info("wrote %d outbox updates again after the database came back", len(entries))

    # -- the transport ------------------------------------------------------------------------

    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = open_transport(parse_mail_url(self.settings.mail_url),
                                             self.settings.smtp_timeout)
        return self._transport

    def _close_transport(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


@dataclass(frozen=True)
class _Settle:
    """A row that ends without being sent: cancelled, skipped or failed before sending."""

    state: str
    counter: str
    reason: str


_FIRST_EMAIL = {kinds.TASK_REMINDER: kinds.TASK_RELEASED,
                kinds.SURVEY_REMINDER: kinds.SURVEY_INVITATION}


def _first_emails_not_sent(session, deliveries: list[Delivery]) -> set[int]:
    """The reminders of the batch whose first email (the task's release, the survey's
    invitation, to the same person) was skipped, cancelled or failed: never remind of
    something the participant was never told about."""
    reminders = {(d.cohort_id, d.recipient, _FIRST_EMAIL[d.kind], d.anchor.split("#", 1)[0]): d.id
                 for d in deliveries if d.kind in _FIRST_EMAIL and not d.resend_number}
    if not reminders:
        return set()
    cohorts = sorted({key[0] for key in reminders})
    recipients = sorted({key[1] for key in reminders})
    unsent = session.execute(select(
        Delivery.cohort_id, Delivery.recipient, Delivery.kind, Delivery.anchor).where(
        Delivery.cohort_id.in_(cohorts), Delivery.recipient.in_(recipients),
        Delivery.kind.in_(sorted(set(_FIRST_EMAIL.values()))), Delivery.resend_number == 0,
        Delivery.state.in_((kinds.SKIPPED, kinds.CANCELLED, kinds.FAILED))))
    return {reminders[tuple(row)] for row in unsent if tuple(row) in reminders}


def _due(now: datetime) -> list:
    return [Delivery.state == kinds.PENDING, Delivery.send_at <= now,
            or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now), _cohort_sends()]


def _cohort_sends():
    """The cohort is launched (drafts send nothing, services/launching.py) and not paused:
    two lookups by primary key per candidate row, inside the claim's one statement."""
    return and_(
        exists().where(Cohort.id == Delivery.cohort_id, Cohort.launched_at.is_not(None)),
        ~exists().where(CohortMailSettings.cohort_id == Delivery.cohort_id,
                        CohortMailSettings.paused.is_(True)))


def _write_result(conn: Connection, delivery_id: int, token: str, values: dict) -> None:
    if values.keys() == _RESULT_COLUMNS:  # the common case, with a ready-made statement
        conn.execute(_RESULT, {"b_id": delivery_id, "b_token": token,
                               **{f"b_{k}": v for k, v in values.items()}})
        return
    conn.execute(update(Delivery).where(Delivery.id == delivery_id,
                                        Delivery.claim_token == token).values(**values))


# The two statements of every email, built once (building a statement costs more than
# running it on SQLite).
def _bound(column: str):
    return bindparam(f"b_{column}", type_=Delivery.__table__.c[column].type)


_HAND_OVER = update(Delivery).where(
    Delivery.id == _bound("id"), Delivery.claim_token == bindparam("b_token"),
    Delivery.state.in_((kinds.CLAIMED, kinds.SENDING)),
).values(state=kinds.SENDING, attempts=_bound("attempts"), message_id=_bound("message_id"))
_RESULT_COLUMNS = {"state", "sent_at", "retry_at", "last_code", "last_error"}
_RESULT = update(Delivery).where(
    Delivery.id == _bound("id"), Delivery.claim_token == bindparam("b_token"),
).values(**{column: _bound(column) for column in sorted(_RESULT_COLUMNS)})


def database_started_at(engine: Engine) -> datetime | None:
    """Since when the database has kept commits that did not wait for the disk: PostgreSQL's
    server start, or for SQLite this machine's boot. None when unknown (assume "just now")."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return conn.scalar(select(func.pg_postmaster_start_time()))
    try:
        with open("/proc/stat") as stat:
            boot = next(line for line in stat if line.startswith("btime "))
        return datetime.fromtimestamp(int(boot.split()[1]), UTC)
    except (OSError, StopIteration, ValueError):
        return None


def _is_dead_local_worker(claimed_by: str) -> bool:
    host, _, pid = claimed_by.rpartition("/")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _one_line(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1][:500]
