"""The only code that sends email: one pass over the outbox's due rows.

For each due row the pass composes the message, then CLAIMS the row (pending -> sending, in its
own committed transaction, guarded by `state = 'pending'` so two passes can never both win),
talks to the mail server, and marks the row sent, failed, or pending again with a retry time.
A crash can therefore leave at most the row being sent in `sending`; the next pass turns such
rows into `needs_review` (the message may or may not have arrived) and never sends them again
on its own: the facilitator decides. A row is stale when its claimer is a dead process on this
host, or when it was claimed longer ago than OUTBOX_STALE_AFTER_SECONDS (other hosts).

Times: `now` is the logical time deciding what is due (tests and `send-due --now` pass it);
claims are stamped with the wall clock, because staleness is about real processes.
The scheduler's job and `cohort send-due` both call `send_due`.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import exists, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from . import db
from .core import deliveries as kinds
from .core.sending import RetryPolicy, SendFailure, message_id, outcome_of_failure, skip_reason
from .emails import build_message
from .mailer import MailError, Transport, open_transport, parse_mail_url
from .models import CohortMailSettings, Delivery
from .services.messages import MailContext, ProgrammeCache, Undeliverable, message_data

log = logging.getLogger("cohort.outbox")
BATCH = 50


def config_from_env(instance_path: str | Path) -> dict:
    """The outbox's settings with their defaults (app.py merges these into app.config)."""
    env = os.environ.get
    return dict(
        MAIL_URL=env("COHORT_MAIL_URL") or f"file://{Path(instance_path) / 'mail'}",
        MAIL_FROM=env("COHORT_MAIL_FROM") or "Cohort <cohort@localhost>",
        BASE_URL=env("COHORT_BASE_URL") or "http://127.0.0.1:5000",
        OUTBOX_MAX_ATTEMPTS=int(env("COHORT_OUTBOX_MAX_ATTEMPTS") or 8),
        OUTBOX_RETRY_BASE_SECONDS=float(env("COHORT_OUTBOX_RETRY_BASE_SECONDS") or 60),
        OUTBOX_RETRY_CAP_SECONDS=float(env("COHORT_OUTBOX_RETRY_CAP_SECONDS") or 7200),
        OUTBOX_OVERDUE_LIMIT_HOURS=float(env("COHORT_OUTBOX_OVERDUE_LIMIT_HOURS") or 72),
        OUTBOX_STALE_AFTER_SECONDS=float(env("COHORT_OUTBOX_STALE_AFTER_SECONDS") or 900),
        OUTBOX_SMTP_TIMEOUT_SECONDS=float(env("COHORT_SMTP_TIMEOUT_SECONDS") or 30),
        SCHEDULER_INTERVAL_SECONDS=float(env("COHORT_SCHEDULER_INTERVAL_SECONDS") or 60),
        # /healthz: unhealthy when the scheduler has not ticked for this long (default: three
        # missed ticks, at least three minutes).
        HEALTH_MAX_HEARTBEAT_AGE_SECONDS=float(
            env("COHORT_HEALTH_MAX_HEARTBEAT_AGE_SECONDS")
            or max(180.0, 3 * float(env("COHORT_SCHEDULER_INTERVAL_SECONDS") or 60))),
        PARTICIPANT_LINK_GRACE_DAYS=float(env("COHORT_PARTICIPANT_LINK_GRACE_DAYS") or 30),
    )


@dataclass(frozen=True)
class OutboxSettings:
    mail_url: str
    mail_from: str
    context: MailContext
    retry: RetryPolicy
    overdue_limit: timedelta
    stale_after: timedelta
    smtp_timeout: float

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


class Dispatcher:
    def __init__(self, engine: Engine, settings: OutboxSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = worker_name()
        self.programmes = ProgrammeCache()
        self._transport: Transport | None = None

    def run(self, now: datetime, cohort_id: int | None = None,
            limit: int | None = None) -> PassReport:
        report = PassReport()
        report.needs_review = self.flag_interrupted()
        report.skipped = self.skip_overdue(now, cohort_id)
        attempted = 0
        try:
            while limit is None or attempted < limit:
                candidates = self._due_ids(now, cohort_id)
                if not candidates:
                    break
                random.shuffle(candidates)  # concurrent passes rarely collide on a row
                progress = False
                for delivery_id in candidates:
                    if limit is not None and attempted >= limit:
                        break
                    result = self._handle(delivery_id, now, report)
                    if result == "lost":  # another pass claimed it first
                        continue
                    progress = True
                    if result in ("sent", "retrying", "failed"):
                        attempted += 1
                    if report.stopped:
                        return report
                if not progress:
                    break
        finally:
            self._close_transport()
        return report

    # -- housekeeping -------------------------------------------------------------------------

    def flag_interrupted(self) -> int:
        """Rows left in `sending` by a pass that died: they become needs_review, never resent."""
        wall = datetime.now(UTC)
        with self.engine.begin() as conn:
            claimers = set(conn.scalars(select(Delivery.claimed_by).where(
                Delivery.state == kinds.SENDING).distinct()))
            dead = [c for c in claimers if c and _is_dead_local_worker(c)]
            condition = Delivery.claimed_at < wall - self.settings.stale_after
            if dead:
                condition = or_(condition, Delivery.claimed_by.in_(dead))
            result = conn.execute(update(Delivery).where(
                Delivery.state == kinds.SENDING, condition,
            ).values(state=kinds.NEEDS_REVIEW, last_error=(
                "interrupted while sending: the message may or may not have arrived; "
                "check with the recipient, then resend or dismiss")))
        if result.rowcount:
            log.warning("%d interrupted deliveries need review", result.rowcount)
        return result.rowcount

    def skip_overdue(self, now: datetime, cohort_id: int | None) -> int:
        """Never-tried rows that are far too late (after downtime) are skipped, not sent."""
        limit = self.settings.overdue_limit
        condition = [Delivery.state == kinds.PENDING, Delivery.attempts == 0,
                     Delivery.send_at < now - limit, _not_paused()]
        if cohort_id is not None:
            condition.append(Delivery.cohort_id == cohort_id)
        hours = int(limit.total_seconds() // 3600)
        with self.engine.begin() as conn:
            return conn.execute(update(Delivery).where(*condition).values(
                state=kinds.SKIPPED,
                last_error=f"skipped: overdue by more than {hours} hour(s) when the outbox "
                           "ran again")).rowcount

    def _due_ids(self, now: datetime, cohort_id: int | None) -> list[int]:
        query = select(Delivery.id).where(*_due(now)).order_by(Delivery.send_at, Delivery.id)
        if cohort_id is not None:
            query = query.where(Delivery.cohort_id == cohort_id)
        with self.engine.connect() as conn:
            return list(conn.scalars(query.limit(BATCH)))

    # -- one row ------------------------------------------------------------------------------

    def _handle(self, delivery_id: int, now: datetime, report: PassReport) -> str:
        try:
            prepared = self._prepare(delivery_id, now)
        except OperationalError as exc:  # e.g. the database is busy: try again next pass
            log.warning("delivery %s: could not compose now: %s", delivery_id, exc)
            return "lost"
        if prepared is None:
            return "lost"
        delivery, message_or_reason = prepared
        if isinstance(message_or_reason, _Settle):
            if self._settle(delivery.id, message_or_reason):
                setattr(report, message_or_reason.counter,
                        getattr(report, message_or_reason.counter) + 1)
                return message_or_reason.state
            return "lost"
        token = self._claim(delivery, now)
        if token is None:
            return "lost"
        try:
            self.transport().send(message_or_reason)
        except MailError as exc:
            return self._record_failure(delivery, token, exc, now, report)
        self._mark(delivery.id, token, state=kinds.SENT, sent_at=now, last_code=250,
                   last_error=None, retry_at=None)
        report.sent += 1
        return "sent"

    def _prepare(self, delivery_id: int, now: datetime):
        """Compose the message (or decide not to send) before claiming the row."""
        with db.transaction(self.engine) as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None or delivery.state != kinds.PENDING:
                return None
            try:
                data = message_data(session, delivery, self.settings.context, now,
                                    self.programmes)
            except Undeliverable as exc:
                return delivery, _Settle(kinds.CANCELLED, "cancelled", f"cancelled: {exc}")
            except Exception as exc:  # a bug or bad data must not stop the other emails
                log.exception("delivery %s cannot be composed", delivery_id)
                return delivery, _Settle(kinds.FAILED, "failed",
                                         f"could not compose the message: {_one_line(exc)}")
            # A row already being retried is not "overdue", but can still be too late.
            overdue_limit = self.settings.overdue_limit if delivery.attempts == 0 \
                else timedelta.max
            reason = skip_reason(delivery.kind, delivery.send_at, now, deadline=data.deadline,
                                 settled=data.settled, overdue_limit=overdue_limit)
            if reason:
                return delivery, _Settle(kinds.SKIPPED, "skipped", f"skipped: {reason}")
            try:
                return delivery, build_message(data, now, self.settings.mail_from)
            except Exception as exc:
                log.exception("delivery %s cannot be rendered", delivery_id)
                return delivery, _Settle(kinds.FAILED, "failed",
                                         f"could not render the message: {_one_line(exc)}")

    def _claim(self, delivery: Delivery, now: datetime) -> str | None:
        token = uuid.uuid4().hex
        mid = message_id(delivery.id, delivery.cohort_id, delivery.kind, delivery.anchor,
                         delivery.recipient, delivery.resend_number,
                         self.settings.context.message_id_domain)
        with self.engine.begin() as conn:
            claimed = conn.execute(update(Delivery).where(
                Delivery.id == delivery.id, *_due(now),
            ).values(state=kinds.SENDING, claimed_at=datetime.now(UTC), claimed_by=self.worker,
                     claim_token=token, attempts=Delivery.attempts + 1,
                     message_id=mid)).rowcount
        return token if claimed else None

    def _settle(self, delivery_id: int, settle: _Settle) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(update(Delivery).where(
                Delivery.id == delivery_id, Delivery.state == kinds.PENDING,
            ).values(state=settle.state, last_error=settle.reason)).rowcount)

    def _record_failure(self, delivery: Delivery, token: str, exc: MailError, now: datetime,
                        report: PassReport) -> str:
        failure = SendFailure(exc.code, exc.text, exc.permanent)
        outcome = outcome_of_failure(failure, delivery.attempts + 1, now, self.settings.retry)
        self._mark(delivery.id, token, state=outcome.state, retry_at=outcome.retry_at,
                   last_code=outcome.code, last_error=outcome.error)
        log.warning("delivery %s to %s: %s -> %s", delivery.id, delivery.recipient, exc,
                    outcome.state)
        if exc.unavailable:
            report.stopped = f"mail server unavailable: {exc.text}"
        if outcome.state == kinds.FAILED:
            report.failed += 1
            report.errors.append(f"{delivery.id}: {outcome.code or ''} {outcome.error}".strip())
            return "failed"
        report.retrying += 1
        return "retrying"

    def _mark(self, delivery_id: int, token: str, **values) -> None:
        """Record the result; keyed by our claim token, so it lands even if another pass has
        meanwhile flagged the row as needs_review (we know better: it was sent)."""
        with self.engine.begin() as conn:
            _write_result(conn, delivery_id, token, values)

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


def _due(now: datetime) -> list:
    return [Delivery.state == kinds.PENDING, Delivery.send_at <= now,
            or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now), _not_paused()]


def _not_paused():
    return ~exists().where(CohortMailSettings.cohort_id == Delivery.cohort_id,
                           CohortMailSettings.paused.is_(True))


def _write_result(conn: Connection, delivery_id: int, token: str, values: dict) -> None:
    conn.execute(update(Delivery).where(Delivery.id == delivery_id,
                                        Delivery.claim_token == token).values(**values))


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


def preview_message(delivery_id: int, now: datetime | None = None, app: Flask | None = None):
    """The message a delivery sends (or sent), composed now from the current data; nothing is
    sent and the row is not touched. Raises services.NotFound or Undeliverable."""
    from .services.outbox import get_delivery

    app = app or current_app._get_current_object()
    settings = OutboxSettings.from_app(app)
    now = now or datetime.now(UTC)
    with db.transaction(app.extensions["cohort.engine"]) as session:
        delivery = get_delivery(session, delivery_id)
        data = message_data(session, delivery, settings.context, now)
        return build_message(data, delivery.sent_at or now, settings.mail_from)
