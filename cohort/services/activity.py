"""The cohort activity log: every change a facilitator makes is recorded with who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from ..models import ActivityEntry, User, utcnow

# The actions written to the log; the web shows each in the reader's language.
MEETING_RESCHEDULED = "meeting_rescheduled"
MEETING_CANCELLED = "meeting_cancelled"
MEETING_RESTORED = "meeting_restored"
COHORT_CREATED = "cohort_created"
COHORT_LAUNCHED = "cohort_launched"  # details: the emails due in the next 14 days, skipped
PARTICIPANTS_IMPORTED = "participants_imported"
PARTICIPANT_ADDED = "participant_added"
PARTICIPANT_UPDATED = "participant_updated"
PARTICIPANT_REMOVED = "participant_removed"
STAFF_ADDED = "staff_added"
STAFF_REMOVED = "staff_removed"
PARTICIPANT_ERASED = "participant_erased"  # details: the row id only, never who it was
PERSONAL_DATA_PURGED = "personal_data_purged"
# Groups people were told about planned again or repaired (services/group_changes.py).
GROUPS_CHANGED = "groups_changed"  # details: grouping, title, action, changed, notified
# Evaluators' words: the details hold the row's id only, never its text, organisation or
# group (facilitators read this log and must not read the quotes: see web/evaluation.py).
NOTE_EDITED = "note_edited"
NOTE_DELETED = "note_deleted"
QUOTE_EDITED = "quote_edited"
QUOTE_DELETED = "quote_deleted"
# A send-out cancelled for everyone from the outbox (services/outbox_pages.py).
SEND_OUT_CANCELLED = "send_out_cancelled"  # details: kind, anchor, title, cancelled
# The progress grid's "remind these" (services/progress.py) and announcements
# (services/announcements.py).
PROGRESS_REMINDERS_QUEUED = "progress_reminders_queued"  # details: queued, already_waiting
ANNOUNCEMENT_QUEUED = "announcement_queued"  # details: id, subject, audience, recipients, urgent
# Meeting materials (services/materials.py) and invited colleagues (services/staff.py).
MATERIAL_ADDED = "material_added"  # details: meeting, title, kind
MATERIAL_REMOVED = "material_removed"  # details: meeting, title, kind
STAFF_INVITED = "staff_invited"  # details: email, role (an account made for them)
ACTIONS = (MEETING_RESCHEDULED, MEETING_CANCELLED, MEETING_RESTORED, COHORT_CREATED,
           COHORT_LAUNCHED,
           PARTICIPANTS_IMPORTED, PARTICIPANT_ADDED, PARTICIPANT_UPDATED, PARTICIPANT_REMOVED,
           STAFF_ADDED, STAFF_REMOVED, PARTICIPANT_ERASED, PERSONAL_DATA_PURGED,
           NOTE_EDITED, NOTE_DELETED, QUOTE_EDITED, QUOTE_DELETED, GROUPS_CHANGED,
           SEND_OUT_CANCELLED, PROGRESS_REMINDERS_QUEUED, ANNOUNCEMENT_QUEUED, MATERIAL_ADDED,
           MATERIAL_REMOVED, STAFF_INVITED)


def log_activity(
    session: Session, cohort_id: int, actor: User | None, action: str, details: dict,
    now: datetime | None = None,
) -> ActivityEntry:
    """Add one entry; `details` is plain JSON (ISO dates, keys, names)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown activity '{action}'")
    entry = ActivityEntry(
        cohort_id=cohort_id, actor_id=actor.id if actor else None,
        actor=(actor.email if actor else "system"), action=action, details=details,
        created_at=now or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def cohort_activity(session: Session, cohort_id: int, limit: int | None = None
                    ) -> list[ActivityEntry]:
    query = (select(ActivityEntry).where(ActivityEntry.cohort_id == cohort_id)
             .order_by(ActivityEntry.created_at.desc(), ActivityEntry.id.desc()))
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))
