"""Participants' personal links: only a hash of each token is stored.

The token itself is HMAC(secret key, nonce) (see services/participant_access.py): the database
holds the nonce and the token's SHA-256, so a copy of the database alone opens nothing, and the
app can still put the same link in every email without keeping it in clear text.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class ParticipantLink(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    nonce: str = Field(unique=True)
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    revoked_at: datetime | None = utc_field(nullable=True)
