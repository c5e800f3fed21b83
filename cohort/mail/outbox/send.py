"""The sender threads: each takes composed emails from the queue, HANDS OVER the rows
(claimed -> sending, guarded by the claim token, committed before a byte goes out), sends on its
own SMTP connection and records the mail server's answer (mail.outbox.record)."""

from __future__ import annotations

import logging
from datetime import datetime
from queue import Queue

from ...core import deliveries as kinds
from ...core.sending import SendFailure, message_id, outcome_of_failure
from ...models import Delivery
from ..transport import MailError, Transport, open_transport, parse_mail_url
from .record import PerThread, Recorder
from .settings import PassReport

log = logging.getLogger("cohort.mail.dispatch")
# Sender threads, each with its own SMTP connection: while one waits for the mail server's
# reply the other talks. At most this many emails of a dispatcher are ever in flight.
SENDERS = 2


class Sender(Recorder):
    _transport: Transport | None = PerThread()  # this thread's SMTP connection

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

    def _hand_over(self, group: list[Delivery], token: str) -> bool:
        """claimed -> sending for every row of one email, only while the claim is ours;
        committed before we send. The rows share the first row's Message-ID."""
        lead = group[0]
        mid = message_id(lead.id, lead.cohort_id, lead.kind, lead.anchor, lead.recipient,
                         lead.resend_number, self.settings.context.message_id_domain)
        unwritten = self._unwritten or []  # the previous email's results, in the same commit
        handed = self._write_hand_over(group, token, mid, unwritten)
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
