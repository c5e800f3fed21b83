"""Announcements: a facilitator's short message to the whole cohort, one group, or the filtered
rows of the progress grid.

`preview_announcement` says who would get it and when, without writing anything; the web shows
it and asks for a confirmation carrying the preview's fingerprint. `queue_announcement` stores
the announcement and one outbox row per recipient (kind `announcement`, anchor
`announcement:ID`): it joins each participant's next bundled email under the mail policy, or
goes now if urgent (`core.progress.message_send_at`); the activity log records it. The
participant page lists the announcements of the participant's rows that were not cancelled
(`participant_announcements`), so an announcement stays visible after the email.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, cast, literal, select
from sqlmodel import Session

from ..core import deliveries as kinds
from ..core import progress as core
from ..core.text import whole_number
from ..models import Announcement, Delivery, Participant, User
from ._lookup import NotFound, get_cohort
from .activity import ANNOUNCEMENT_QUEUED, log_activity
from .plans import mail_policy
from .progress import (
    filtered_summaries,
    group_members,
    next_bundled,
    queue_messages,
)

COHORT, GROUP, FILTERED = "cohort", "group", "filtered"
AUDIENCES = (COHORT, GROUP, FILTERED)


@dataclass(frozen=True)
class Audience:
    kind: str = COHORT  # cohort | group | filtered
    group_id: int | None = None
    filters: core.GridFilters = core.GridFilters()


@dataclass(frozen=True)
class AnnouncementPreview:
    subject: str
    body: str
    urgent: bool
    audience: Audience
    recipients: int
    now_count: int  # go at once (urgent, or nothing to wait for)
    first_at: datetime | None
    last_at: datetime | None
    fingerprint: str


def recipients_of(session: Session, cohort_id: int, audience: Audience
                  ) -> list[tuple[int, str]]:
    """(participant id, email) of everyone the audience names, not erased, by id."""
    cohort = get_cohort(session, cohort_id)
    if audience.kind == FILTERED:
        kept, _total = filtered_summaries(session, cohort, audience.filters)
        return sorted((r.participant_id, r.email) for r in kept)
    query = select(Participant.id, Participant.email).where(
        Participant.cohort_id == cohort_id, Participant.erased_at.is_(None))
    if audience.kind == GROUP:
        members = group_members(session, cohort_id, audience.group_id or 0)
        if not members:
            raise NotFound(f"cohort {cohort_id} has no group {audience.group_id}")
        query = query.where(Participant.id.in_(sorted(members)))
    elif audience.kind != COHORT:
        raise NotFound(f"no audience '{audience.kind}'")
    return [(pid, email) for pid, email in session.execute(query.order_by(Participant.id))]


def _fingerprint(subject: str, body: str, urgent: bool, audience: Audience,
                 ids: list[int]) -> str:
    text = "|".join([subject, body, str(urgent), audience.kind, str(audience.group_id),
                     ",".join(map(str, ids))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def preview_announcement(session: Session, cohort_id: int, subject: str, body: str,
                         urgent: bool, audience: Audience, now: datetime
                         ) -> AnnouncementPreview:
    """Who would get it and when; nothing is written."""
    cohort = get_cohort(session, cohort_id)
    people = recipients_of(session, cohort_id, audience)
    ids = [pid for pid, _email in people]
    policy = mail_policy(cohort)
    upcoming = {} if urgent else next_bundled(session, cohort_id, ids, now)
    times = [core.message_send_at(now, policy, upcoming.get(pid), urgent) for pid in ids]
    return AnnouncementPreview(
        subject, body, urgent, audience, len(ids), sum(1 for t in times if t <= now),
        min(times, default=None), max(times, default=None),
        _fingerprint(subject, body, urgent, audience, ids))


def queue_announcement(session: Session, cohort_id: int, subject: str, body: str,
                       urgent: bool, audience: Audience, actor: User | None,
                       now: datetime) -> Announcement:
    """Store it and queue one email row per recipient; logged."""
    subject, body = subject.strip(), body.strip()
    if not subject or not body or len(subject) > core.MAX_SUBJECT \
            or len(body) > core.MAX_BODY:
        raise ValueError("an announcement needs a subject and a message of limited length")
    cohort = get_cohort(session, cohort_id)
    people = recipients_of(session, cohort_id, audience)
    announcement = Announcement(cohort_id=cohort_id, subject=subject, body=body, urgent=urgent,
                                audience=audience.kind, recipients=len(people),
                                created_at=now, created_by=actor.email if actor else "")
    session.add(announcement)
    session.flush()
    queue_messages(session, cohort, kinds.ANNOUNCEMENT, f"announcement:{announcement.id}",
                   people, now, urgent=urgent)
    log_activity(session, cohort_id, actor, ANNOUNCEMENT_QUEUED,
                 {"id": announcement.id, "subject": subject, "audience": audience.kind,
                  "recipients": len(people), "urgent": urgent}, now=now)
    return announcement


def cohort_announcements(session: Session, cohort_id: int) -> list[Announcement]:
    get_cohort(session, cohort_id)
    return list(session.scalars(select(Announcement).where(Announcement.cohort_id == cohort_id)
                                .order_by(Announcement.created_at.desc(),
                                          Announcement.id.desc())))


def announcement_of(session: Session, cohort_id: int, anchor: str) -> Announcement:
    """The announcement an outbox row is about (NotFound if it is gone)."""
    number = whole_number(anchor.removeprefix("announcement:"))
    found = session.get(Announcement, number) if number is not None else None
    if found is None or found.cohort_id != cohort_id:
        raise NotFound(f"no announcement '{anchor}' in cohort {cohort_id}")
    return found


# Built once: the participant's page reads it on every view (building it cost more than
# running it). The anchor names the announcement (`announcement:ID`): one statement, where
# reading the anchors and then their announcements took two (two round trips on PostgreSQL).
# The cohort's index finds its few announcements, the participant's index their outbox rows.
_OWN_ANNOUNCEMENTS = (
    select(Announcement)
    .where(Announcement.cohort_id == bindparam("cohort_id"),
           select(Delivery.id).where(
               Delivery.participant_id == bindparam("participant_id"),
               Delivery.kind == kinds.ANNOUNCEMENT, Delivery.state != kinds.CANCELLED,
               Delivery.anchor == literal("announcement:")
               + cast(Announcement.id, String)).exists())
    .order_by(Announcement.created_at.desc(), Announcement.id.desc()))


def participant_announcements(session: Session, participant_id: int,
                              cohort_id: int) -> list[Announcement]:
    """The announcements of the participant's cohort sent or on their way to them (their
    outbox rows not cancelled), newest first."""
    return list(session.scalars(_OWN_ANNOUNCEMENTS, {"participant_id": participant_id,
                                                     "cohort_id": cohort_id}))
