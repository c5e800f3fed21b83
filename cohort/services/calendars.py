"""Calendars: a cohort's and a participant's .ics, personal feeds and meeting invitations.

Rows are the truth for times, places, status and revisions; the cohort's programme snapshot
adds what a meeting is about (themes, content, leading question).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask_babel import force_locale, gettext
from sqlalchemy import bindparam, select
from sqlmodel import Session

from .. import db
from ..core import calendars as ical
from ..core.calendars import CalendarMessage, CalendarText, Person
from ..core.participants import normalise_email
from ..core.programme import Programme, parse_programme
from ..models import CalendarFeed, Cohort, Participant, Task, utcnow
from ._lookup import NotFound, cohort_ends_at, cohort_meetings, get_cohort

# How long after the cohort's last date a personal feed still answers
# (COHORT_CALENDAR_FEED_GRACE_DAYS).
DEFAULT_FEED_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class CalendarDocument:
    """An .ics file with what HTTP caching needs (ETag from the bytes, Last-Modified)."""

    ics: bytes
    filename: str
    last_modified: datetime

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.ics).hexdigest()[:32]


def calendar_text(language: str) -> CalendarText:
    """The calendar's words in the cohort's language (Flask-Babel; msgids in English)."""
    with force_locale(language):
        return CalendarText(
            language=language,
            themes=gettext("Themes"),
            content=gettext("Content"),
            question=gettext("Leading question"),
            tasks_due=gettext("To do before this meeting"),
            due=gettext("due %(time)s"),
            online=gettext("Online"),
            reminder=gettext("Tomorrow: %(title)s"),
            cancelled=gettext("Cancelled: %(title)s"),
            task_due=gettext("Deadline %(time)s: %(title)s"),
        )


def cohort_calendar(session: Session, cohort_id: int) -> CalendarDocument:
    """The facilitator's download: every meeting of the cohort, cancelled ones included."""
    cohort = get_cohort(session, cohort_id)
    data, modified = _calendar_data(session, cohort, with_tasks=False)
    return CalendarDocument(ical.feed_ics(data), f"{_slug(cohort.title)}.ics",
                            modified)


def participant_calendar(session: Session, cohort_id: int, email: str) -> CalendarDocument:
    """A participant's own calendar: the meetings plus their task deadlines."""
    return _participant_document(session, participant_by_email(session, cohort_id, email))


def feed_calendar(session: Session, token: str, now: datetime | None = None,
                  grace: timedelta = DEFAULT_FEED_GRACE) -> CalendarDocument:
    """The live calendar behind a personal subscription URL. NotFound for a bad or revoked
    token (revoking the personal links revokes the feed too), and once the cohort's last date
    (`_lookup.cohort_ends_at`) is more than `grace` ago: a feed does not live forever."""
    participant = session.scalars(
        select(Participant).join(CalendarFeed, CalendarFeed.participant_id == Participant.id)
        .where(CalendarFeed.token_hash == _token_hash(token), CalendarFeed.revoked_at.is_(None))
    ).one_or_none()
    if participant is None:
        raise NotFound("no such calendar feed")
    ends_at = cohort_ends_at(session, get_cohort(session, participant.cohort_id))
    if (now or utcnow()) >= ends_at + grace:
        raise NotFound("the calendar feed ended with its cohort")
    return _participant_document(session, participant)


def meeting_invitation(
    session: Session, cohort_id: int, meeting_key: str, email: str, organizer: Person,
    now: datetime | None = None,
) -> CalendarMessage:
    """The email attachment for one meeting and participant: REQUEST, or CANCEL if cancelled."""
    participant = participant_by_email(session, cohort_id, email)
    return ical.with_attendee(
        meeting_invitation_to_all(session, cohort_id, meeting_key, organizer, now),
        Person(participant.email, participant.name))


def meeting_invitation_to_all(
    session: Session, cohort_id: int, meeting_key: str, organizer: Person,
    now: datetime | None = None,
) -> CalendarMessage:
    """`meeting_invitation` before its attendee is put in (`core.calendars.with_attendee`):
    the outbox makes it once for a batch of emails about the meeting."""
    cohort = get_cohort(session, cohort_id)
    data, _ = _calendar_data(session, cohort, with_tasks=False)
    meeting = next((m for m in data.meetings if m.key == meeting_key), None)
    if meeting is None:
        raise NotFound(f"cohort {cohort_id} has no meeting '{meeting_key}'")
    return ical.invitation_to_all(meeting, data, organizer, now or utcnow())


def calendar_feed_token(session: Session, participant_id: int, secret: str | bytes) -> str | None:
    """The participant's feed token, made on first use; None once it has been revoked.

    Two dispatchers composing this participant's emails at once may both get here first, so
    the first feed is inserted with ON CONFLICT DO NOTHING and then read back: both end up
    with the one feed, and neither transaction fails.
    """
    feed = _feed(session, participant_id)
    if feed is None:
        if session.get(Participant, participant_id) is None:
            raise NotFound(f"no participant {participant_id}")
        salt = secrets.token_hex(16)
        session.execute(db.upsert(session)(CalendarFeed).values(
            participant_id=participant_id, salt=salt, token_hash=_token_hash(_token(secret, salt)),
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["participant_id"]))
        feed = _feed(session, participant_id)
    if feed.revoked_at is not None:
        return None
    return _token(secret, feed.salt)


def calendar_feed_tokens(session: Session, participant_ids: list[int], secret: str | bytes
                         ) -> dict[int, str | None]:
    """`calendar_feed_token` of many participants at once (the outbox's batch of welcomes):
    one read, one insert of the missing feeds (ON CONFLICT DO NOTHING, as there), one read
    back. Participants that do not exist are left out."""
    ids = sorted(set(participant_ids))
    feeds = {f.participant_id: f for f in _feeds(session, ids)}
    missing = sorted(set(session.scalars(select(Participant.id).where(
        Participant.id.in_([pid for pid in ids if pid not in feeds])))))
    if missing:
        now = utcnow()
        rows = []
        for pid in missing:
            salt = secrets.token_hex(16)
            rows.append(dict(participant_id=pid, salt=salt,
                             token_hash=_token_hash(_token(secret, salt)), created_at=now))
        session.execute(db.upsert(session)(CalendarFeed).values(rows).on_conflict_do_nothing(
            index_elements=["participant_id"]))
        feeds.update({f.participant_id: f for f in _feeds(session, missing)})
    return {pid: None if feed.revoked_at is not None else _token(secret, feed.salt)
            for pid, feed in feeds.items()}


def _feeds(session: Session, participant_ids: list[int]) -> list[CalendarFeed]:
    found = []
    for chunk in (participant_ids[i:i + 500] for i in range(0, len(participant_ids), 500)):
        found += session.scalars(select(CalendarFeed).where(
            CalendarFeed.participant_id.in_(chunk)))
    return found


def made_calendar_feed_token(session: Session, participant_id: int, secret: str | bytes
                             ) -> tuple[bool, str | None]:
    """Reads only: whether the participant's feed has been made, and its token (None once
    revoked). The participant's page reads it on every view and writes (calendar_feed_token)
    only on the first, so a GET does not open a write transaction."""
    feed = _feed(session, participant_id)
    if feed is None:
        return False, None
    return True, None if feed.revoked_at is not None else _token(secret, feed.salt)


def calendar_feed_revoked(session: Session, participant_id: int) -> bool:
    """Whether the participant's feed has been revoked; reads only (no feed is made)."""
    feed = _feed(session, participant_id)
    return feed is not None and feed.revoked_at is not None


def renew_calendar_feed(session: Session, participant_id: int, secret: str | bytes,
                        now: datetime | None = None) -> str:
    """A new secret URL for the participant; the previous one stops working at once."""
    if session.get(Participant, participant_id) is None:
        raise NotFound(f"no participant {participant_id}")
    feed = _feed(session, participant_id) or CalendarFeed(participant_id=participant_id)
    feed.salt = secrets.token_hex(16)
    token = _token(secret, feed.salt)
    feed.token_hash = _token_hash(token)
    feed.created_at = now or utcnow()
    feed.revoked_at = None
    session.add(feed)
    session.flush()
    return token


def revoke_calendar_feed(session: Session, participant_id: int,
                         now: datetime | None = None) -> bool:
    """Stop the participant's feed URL; True if there was a live one."""
    feed = _feed(session, participant_id)
    if feed is None or feed.revoked_at is not None:
        return False
    feed.revoked_at = now or utcnow()
    session.flush()
    return True


# Built once: the participant's page reads it on every view (building it cost more than
# running it).
_FEED = select(CalendarFeed).where(CalendarFeed.participant_id == bindparam("participant_id"))


def _feed(session: Session, participant_id: int) -> CalendarFeed | None:
    return session.scalars(_FEED, {"participant_id": participant_id}).one_or_none()


def _token(secret: str | bytes, salt: str) -> str:
    """HMAC-SHA256 of the feed's salt: 256 unguessable bits, recomputable, never stored."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"calendar-feed:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def participant_by_email(session: Session, cohort_id: int, email: str) -> Participant:
    """The participant with this address in the cohort, or NotFound."""
    get_cohort(session, cohort_id)
    participant = session.scalars(select(Participant).where(
        Participant.cohort_id == cohort_id, Participant.email == normalise_email(email)
    )).one_or_none()
    if participant is None:
        raise NotFound(f"cohort {cohort_id} has no participant '{email}'")
    return participant


def _participant_document(session: Session, participant: Participant) -> CalendarDocument:
    cohort = get_cohort(session, participant.cohort_id)
    data, modified = _calendar_data(session, cohort, with_tasks=True)
    filename = f"{_slug(cohort.title)}-{_slug(participant.name)}.ics"
    return CalendarDocument(ical.feed_ics(data), filename, modified)


def _calendar_data(
    session: Session, cohort: Cohort, with_tasks: bool
) -> tuple[ical.CohortCalendar, datetime]:
    """The cohort's calendar as core data, and when it last changed."""
    programme = _programme(cohort.programme["source"])
    about = {m.key: m for m in programme.meetings}
    rows = cohort_meetings(session, cohort.id)
    tasks = list(session.scalars(select(Task).where(Task.cohort_id == cohort.id,
                                                    Task.due_at.is_not(None))))
    modified = max([cohort.created_at, *(m.updated_at for m in rows)])
    meetings = [
        ical.CalendarMeeting(
            key=row.key, uid=row.uid, sequence=row.sequence, title=row.title,
            starts_at=row.starts_at, ends_at=row.ends_at, last_modified=row.updated_at,
            location=row.location, online_url=row.online_url, cancelled=row.status == "cancelled",
            themes=tuple(about[row.key].themes) if row.key in about else (),
            content=tuple(about[row.key].content) if row.key in about else (),
            question=about[row.key].question if row.key in about else "",
            tasks_due=tuple(ical.DueTask(t.title, t.due_at) for t in tasks
                            if t.due_meeting_key == row.key),
        )
        for row in rows
    ]
    calendar_tasks = []
    if with_tasks:
        uids = {row.key: row.uid for row in rows}
        revision = sum(row.sequence for row in rows)  # moves whenever any meeting moves
        calendar_tasks = [
            ical.CalendarTask(key=t.key, uid=ical.task_uid(uids[t.meeting_key], t.key),
                              sequence=revision,
                              title=t.title, description=t.description, due_at=t.due_at,
                              last_modified=modified)
            for t in tasks
        ]
    data = ical.CohortCalendar(
        name=cohort.title, programme_title=programme.title, timezone=cohort.timezone,
        meetings=meetings, tasks=calendar_tasks, text=calendar_text(cohort.language),
    )
    return data, modified


@lru_cache(maxsize=64)
def _programme(source: str) -> Programme:
    """Parsing a snapshot takes ~8 ms; a feed is asked for often, the snapshot never changes."""
    return parse_programme(source, "cohort programme")


_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.translate(_DANISH)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.decode().lower()).strip("-") or "calendar"
