"""Claiming a batch of due rows (pending -> claimed, under a token, in a durable commit) and
the housekeeping before a pass: rows a gone dispatcher left, and rows far too late to send."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from sqlalchemy import exists, false, func, or_, select, tuple_, update
from sqlalchemy.engine import Connection, Engine

from ... import db
from ...core import deliveries as kinds
from ...models import Delivery
from ...services.overdue import cohort_sends as _cohort_sends
from ...services.overdue import in_state as _in_state
from ...services.overdue import skip_overdue
from .record import Recorder

log = logging.getLogger("cohort.mail.dispatch")
BATCH = 100  # rows per durable claim: the disk waits once for this many emails


def worker_name() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"



class Claimer(Recorder):
    # -- housekeeping -------------------------------------------------------------------------

    def anything_to_do(self, now: datetime, cohort_id: int | None) -> bool:
        """Whether the pass has any work at `now`: a row some pass claimed or is sending
        (`flag_interrupted` looks at those), or a pending row whose time has come in a cohort
        that sends (what `skip_overdue` and `_claim` take are among those). One read on the
        due index, where a pass with nothing to do ran seven statements, four of them
        writes, and started its sender threads: the scheduler's tick every interval.
        `retry_at` is left out on purpose: a due row waiting for its retry makes the answer
        yes and the pass then claims nothing, which costs one busy pass per tick while it
        waits; the other way round, a check that misread `retry_at` would leave due emails
        unsent."""
        due = select(Delivery.id).where(_in_state(kinds.PENDING), Delivery.send_at <= now,
                                        _cohort_sends())
        if cohort_id is not None:
            due = due.where(Delivery.cohort_id == cohort_id)
        busy = select(Delivery.id).where(_in_state(kinds.SENDING, kinds.CLAIMED))
        with db.read_session(self.engine) as session:  # no BEGIN and ROLLBACK round trips
            return bool(session.scalar(select(or_(exists(busy), exists(due)))))

    def flag_interrupted(self) -> int:
        """Rows a gone dispatcher left: `sending` ones need review (never resent); `claimed`
        ones go back to pending unless the database restarted since they were claimed."""
        wall = datetime.now(UTC)
        started = database_started_at(self.engine)
        with self.engine.begin() as conn:
            claimers = set(conn.scalars(select(Delivery.claimed_by).where(
                _in_state(kinds.SENDING, kinds.CLAIMED)).distinct()))
            dead = [c for c in claimers if c and _is_dead_local_worker(c)]
            gone = Delivery.claimed_at < wall - self.settings.stale_after
            if dead:
                gone = or_(gone, Delivery.claimed_by.in_(dead))
            safe = Delivery.claimed_at > started if started is not None else false()
            conn.execute(update(Delivery).where(_in_state(kinds.CLAIMED), gone, safe)
                         .values(state=kinds.PENDING, claimed_at=None, claimed_by=None,
                                 claim_token=None))
            flagged = conn.execute(update(Delivery).where(
                _in_state(kinds.SENDING, kinds.CLAIMED), gone,
            ).values(state=kinds.NEEDS_REVIEW, last_error=(
                "interrupted while sending: the message may or may not have arrived; "
                "check with the recipient, then resend or dismiss"))).rowcount
        if flagged:
            log.warning("%d interrupted deliveries need review", flagged)
        return flagged

    def skip_overdue(self, now: datetime, cohort_id: int | None) -> int:
        """Never-tried rows that are far too late are skipped, not sent: after downtime, and
        the emails planned before someone was added to a running cohort (or before a late
        launch), which the plan gives their items' past times.

        A reminder of a first email skipped so is skipped with it, in the same transaction:
        the rule the mail policy applies to a first email it skips and that composing applies
        when a reminder's day comes, applied when the first email is skipped, so the outbox
        never shows a reminder as still to go. The rule is services/overdue.py's, which a
        join applies to the newcomer's rows too."""
        with self.engine.begin() as conn:
            return skip_overdue(conn, now, self.settings.overdue_limit, cohort_id=cohort_id)

    # -- a batch ------------------------------------------------------------------------------

    def _claim(self, now: datetime, cohort_id: int | None, size: int, token: str) -> list[int]:
        """Reserve up to `size` due rows under `token`, durably. Run again after a lost
        connection, it first takes back what the first try may have claimed already."""
        with self._journal_lock:
            durable_from_here = len(self._journal)
        with self._transaction(durable=True) as conn:
            ids = list(conn.scalars(select(Delivery.id).where(
                Delivery.claim_token == token, _in_state(kinds.CLAIMED))))
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
                    Delivery.id.in_(due.scalar_subquery()), *self._still_pending(),
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
                Delivery.claim_token == token, _in_state(kinds.CLAIMED),
                Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.resend_number == 0))}
        if not keys:
            return []
        rest = select(Delivery.id).where(
            *_due(now), Delivery.kind.in_(kinds.BUNDLED_KINDS), Delivery.resend_number == 0,
            tuple_(Delivery.cohort_id, Delivery.recipient, Delivery.send_at).in_(sorted(keys)),
        ).with_for_update(skip_locked=True, of=Delivery)
        return list(conn.scalars(update(Delivery).where(
            Delivery.id.in_(rest.scalar_subquery()), *self._still_pending(),
        ).values(state=kinds.CLAIMED, claimed_at=self._clock(), claimed_by=self.worker,
                 claim_token=token).returning(Delivery.id)))

    def _still_pending(self) -> list:
        """The claim's second look at the state of the rows its subquery chose. PostgreSQL
        needs it: another dispatcher may change a row between the subquery and the update.
        SQLite does not: one statement under its one write lock sees no other writer. There
        it is left out because without table statistics SQLite answered it from the state
        index, walking every pending row's entry instead of looking up the hundred ids:
        9 ms a claim with 48,650 pending emails, 0.08 ms by id (benchmarks/scheduler_tick)."""
        if self.dialect == "sqlite":
            return []
        return [_in_state(kinds.PENDING)]

    def _clock(self):
        """The claim's time stamp. On PostgreSQL the server's clock: it is compared with the
        server's start time (flag_interrupted), which a skewed dispatcher clock could fool."""
        return func.now() if self.dialect == "postgresql" else datetime.now(UTC)


def _due(now: datetime) -> list:
    return [_in_state(kinds.PENDING), Delivery.send_at <= now,
            or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now), _cohort_sends()]


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
