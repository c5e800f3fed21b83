"""The outbox's rules, as pure functions: retries, give-ups, skips and Message-IDs.

The dispatcher (`cohort/mail/dispatch.py`) does the I/O; what it decides lives here so the
rules can be read and tested on their own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import deliveries as kinds


@dataclass(frozen=True)
class RetryPolicy:
    """Temporary failures wait base, 2*base, 4*base, ... (at most `cap`) between attempts."""

    max_attempts: int = 6
    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=2)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1-based)."""
        return min(self.base * (2 ** max(attempts - 1, 0)), self.cap)


@dataclass(frozen=True)
class SendFailure:
    """What the mail server (or the network) said; `code` is None without an SMTP reply."""

    code: int | None
    text: str
    permanent: bool


@dataclass(frozen=True)
class Outcome:
    state: str
    retry_at: datetime | None
    code: int | None
    error: str | None


def outcome_of_failure(failure: SendFailure, attempts: int, now: datetime,
                       policy: RetryPolicy) -> Outcome:
    """Permanent errors fail at once; temporary ones retry with backoff until the limit."""
    if failure.permanent:
        return Outcome(kinds.FAILED, None, failure.code, failure.text)
    if attempts >= policy.max_attempts:
        return Outcome(kinds.FAILED, None, failure.code,
                       f"gave up after {attempts} attempts: {failure.text}")
    return Outcome(kinds.PENDING, now + policy.delay(attempts), failure.code, failure.text)


def is_permanent_smtp_code(code: int | None) -> bool:
    """5xx replies are permanent (RFC 5321 4.2.1); 4xx and no reply at all are temporary."""
    return code is not None and 500 <= code <= 599


def message_id(delivery_id: int, cohort_id: int, kind: str, anchor: str, recipient: str,
               resend_number: int, domain: str) -> str:
    """A Message-ID that is the same on every attempt for one row (so a retry after an
    uncertain failure can be recognised as the same message) and differs between rows."""
    digest = hashlib.sha256(
        f"{cohort_id}|{kind}|{anchor}|{recipient}|{resend_number}".encode()).hexdigest()[:16]
    return f"<cohort.{cohort_id}.{delivery_id}.{digest}@{domain}>"


# Why a reminder is not sent: its first email (core.deliveries.first_email_of) was not. The
# mail policy gives the same reason (core/mailpolicy.py) and the outbox page words it.
FIRST_EMAIL_NOT_SENT = "its first email was not sent"


# Kinds never skipped for being overdue (see `skip_reason`); the outbox's bulk skip
# (services/overdue.py) leaves the same out.
NEVER_OVERDUE = frozenset({kinds.WELCOME})


def skip_reason(kind: str, send_at: datetime, now: datetime, *, deadline: datetime | None,
                settled: bool, overdue_limit: timedelta) -> str | None:
    """Why a due email should not go out any more, or None to send it.

    `deadline` is when the email stops being useful (the meeting it announces has started, the
    task it reminds of is due, the survey has closed); `settled` means the participant has
    already done what a reminder asks for.

    The welcome is never overdue: it carries the participant's personal link, their only way
    to their page, and a late joiner's lists what they missed. An outbox paused for days after
    a launch skipped every welcome of the cohort, so nobody could sign in.
    """
    if settled and kind in (kinds.TASK_REMINDER, kinds.SURVEY_REMINDER):
        return "already done"
    if deadline is not None and now >= deadline:
        return f"too late: its {_deadline_word(kind)} was {deadline.isoformat()}"
    if kind not in NEVER_OVERDUE and now - send_at > overdue_limit:
        return f"overdue by more than {_human(overdue_limit)}"
    return None


def _deadline_word(kind: str) -> str:
    if kind in (kinds.TASK_RELEASED, kinds.TASK_REMINDER):
        return "due time"
    if kind in (kinds.SURVEY_INVITATION, kinds.SURVEY_REMINDER):
        return "closing time"
    return "meeting start"


def _human(delta: timedelta) -> str:
    if delta % timedelta(days=1) == timedelta(0):
        return f"{delta.days} day(s)"
    return f"{int(delta.total_seconds() // 3600)} hour(s)"
