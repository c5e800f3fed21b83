"""What a pass is told (OutboxSettings, from the app's settings) and what it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr

from flask import Flask

from ...core.sending import RetryPolicy
from ..lookups import MailContext


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
            context=MailContext(c["BASE_URL"], c["MAIL_FROM"], c["SECRET_KEY"], domain,
                                timedelta(hours=c["OUTBOX_OVERDUE_LIMIT_HOURS"])),
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
