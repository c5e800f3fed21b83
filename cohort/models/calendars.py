"""Personal calendar feeds: one secret subscription URL per participant.

Only a SHA-256 of the token is stored, so a copy of the database does not give anyone the
URLs. The token itself is an HMAC of a random per-feed salt under the installation's secret
key, so the app can show the same link again (participant page, welcome email) without storing
it; a new salt revokes the old link.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class CalendarFeed(SQLModel, table=True):
    __tablename__ = "calendar_feed"
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", unique=True, ondelete="CASCADE")
    salt: str = Field(max_length=64)
    token_hash: str = Field(unique=True, max_length=64)  # sha256 hex of the token
    created_at: datetime = utc_field(default_factory=utcnow)
    revoked_at: datetime | None = utc_field(nullable=True)
