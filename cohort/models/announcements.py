"""A facilitator's announcements to the participants of a cohort.

Who got one is in the outbox: one `Delivery` of kind `announcement`, anchored
`announcement:ID`, per recipient (services/announcements.py). The participant page lists the
announcements of its participant's rows that were not cancelled.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class Announcement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    subject: str
    body: str
    urgent: bool = False
    # Who it was for, in words for the activity log and the list: cohort, group or selection.
    audience: str = "cohort"
    recipients: int = 0
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by: str = ""
