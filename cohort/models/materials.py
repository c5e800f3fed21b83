"""Materials of a meeting: links and uploaded files (core/materials.py has the rules).

An uploaded file lives in the materials folder (COHORT_MATERIALS_DIR) under `stored_name`, a
random name the app made: the uploaded name is kept only to offer it back as the download's
name, never used as a path.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow, web_link_field


class MeetingMaterial(SQLModel, table=True):
    __tablename__ = "meeting_material"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    kind: str  # link | file
    title: str
    url: str | None = web_link_field()  # links
    # Files: the cleaned uploaded name, the type served (core.materials.FILE_TYPES) and size.
    filename: str | None = None
    file_type: str | None = None
    size: int | None = None
    stored_name: str | None = Field(default=None, unique=True)
    after_meeting: bool = False  # shown to participants once the meeting has been held
    created_at: datetime = utc_field(default_factory=utcnow)
