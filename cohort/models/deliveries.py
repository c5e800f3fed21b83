"""The outbox: one row per planned email, and each cohort's mail settings.

A row's life: pending -> claimed -> sending -> sent | failed | needs_review; pending rows may
also become cancelled (the plan no longer wants them) or skipped (too late to be useful).
`claimed` means reserved by a dispatcher's batch, not yet handed to the mail server. Only
`cohort/mail/dispatch.py` moves rows on towards sending; services cancel pending rows (and revive
cancelled ones) when the plan or the participants change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utc_field, utcnow


class Delivery(SQLModel, table=True):
    """One planned email; (cohort, kind, anchor, recipient, resend_number) is unique.

    Re-planning looks rows up by (kind, anchor, recipient) with resend_number 0, so it never
    creates a duplicate; a facilitator's resend is a new row with the next resend_number and
    `resend_of` pointing at the row it repeats.
    """

    __table_args__ = (
        UniqueConstraint("cohort_id", "kind", "anchor", "recipient", "resend_number"),
        Index("ix_delivery_due", "state", "send_at"),
        # A cohort's emails by state and time, covering the overview's "next 14 days" grouped
        # by batch and its failed count: read from the index alone (a cohort of 5,000 has
        # 100,000 rows).
        Index("ix_delivery_cohort_batches", "cohort_id", "state", "send_at", "kind", "anchor"),
        # No single-column indexes on cohort_id, state or send_at: each is the first column of
        # one above, and every write paid for them (migration 0010).
    )
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", ondelete="CASCADE")
    participant_id: int | None = Field(
        default=None, foreign_key="participant.id", index=True, ondelete="SET NULL"
    )
    kind: str
    anchor: str
    recipient: str  # an email address, or "facilitator" (resolved when sending)
    send_at: datetime = utc_field()
    state: str = Field(default="pending")
    attempts: int = 0
    last_code: int | None = None
    last_error: str | None = None
    sent_at: datetime | None = utc_field(nullable=True)
    # Set by the dispatcher; see cohort/mail/dispatch.py.
    retry_at: datetime | None = utc_field(nullable=True)
    claimed_at: datetime | None = utc_field(nullable=True)
    claimed_by: str | None = None
    claim_token: str | None = None
    message_id: str | None = Field(default=None, index=True)
    # A facilitator's resend of an earlier row, and the review of uncertain rows.
    resend_number: int = 0
    resend_of: int | None = Field(default=None, foreign_key="delivery.id", ondelete="SET NULL")
    reviewed_at: datetime | None = utc_field(nullable=True)
    # A Python-side column default, so bulk Core inserts get it too.
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, default=utcnow))


class CohortMailSettings(SQLModel, table=True):
    """Per-cohort switches for the outbox; a cohort without a row is not paused."""

    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True, ondelete="CASCADE")
    paused: bool = False
    paused_at: datetime | None = utc_field(nullable=True)
    # Where the facilitator digest goes; COHORT_MAIL_FROM when empty.
    facilitator_email: str | None = None
