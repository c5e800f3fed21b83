"""The only code that sends email: one pass over the outbox's due rows.

A pass first asks, in one read, whether it has anything to do: a row claimed or being sent,
or a due row of a cohort that sends. The scheduler starts a pass every interval, and most find
nothing; such a pass writes nothing and starts no thread (`Claimer.anything_to_do`).

A pass works in batches. It CLAIMS up to BATCH due rows at once (pending -> claimed, one
committed transaction that waits for the disk: a claim is never lost) and composes their
emails in one database session (mail.lookups.Lookups reads the batch's rows at once; rows
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

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from queue import Queue

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from .outbox.claim import BATCH, Claimer, database_started_at, worker_name  # noqa: F401
from .outbox.compose import Composer, Settle
from .outbox.send import SENDERS, Sender  # noqa: F401
from .outbox.settings import OutboxSettings, PassReport  # noqa: F401


def send_due(app: Flask | None = None, now: datetime | None = None,
             cohort_id: int | None = None, limit: int | None = None) -> PassReport:
    """One pass: everything due at `now` (default: the current time). Needs an app context
    (the scheduler's job and the CLI have one)."""
    app = app or current_app._get_current_object()
    dispatcher = Dispatcher(app.extensions["cohort.engine"], OutboxSettings.from_app(app))
    return dispatcher.run(now or datetime.now(UTC), cohort_id=cohort_id, limit=limit)


class Dispatcher(Claimer, Composer, Sender):
    """One pass: the steps are in mail/outbox/ (claim, compose, send, record)."""

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
        self._invitations: dict = {}  # the pass's meeting invitations (lookups.Lookups)

    def run(self, now: datetime, cohort_id: int | None = None,
            limit: int | None = None) -> PassReport:
        """Claim and compose here while sender threads hand over and send: composing the next
        emails overlaps with waiting for the mail server and the disk."""
        report = PassReport()
        if not self._retrying(lambda: self.anything_to_do(now, cohort_id)):
            return report  # the idle tick: nothing claimed, sending or due
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
                    if isinstance(message, Settle):
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
