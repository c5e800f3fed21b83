"""Personal links: a participant's way in, without a password.

A link's token is HMAC-SHA256(secret key, random nonce), 43 URL-safe characters. The database
stores the nonce and SHA-256(token) only: a leaked database copy opens no page, while the app
(which has the secret key) can put the same link in every email. Rotating the secret key
invalidates every link; revoking a participant's links issues a new one for later emails.
A link works until the cohort's last date (meeting, task due, survey close) plus a grace period
(`_lookup.cohort_ends_at`; the calendar feed follows the same rule with its own grace).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from ..models import Cohort, CohortRevision, Participant, ParticipantLink
from . import calendars
from ._lookup import cohort_end_columns, cohort_ends_at, ends_at_of

DEFAULT_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class Access:
    link: ParticipantLink
    participant: Participant
    cohort: Cohort
    valid_until: datetime


@dataclass(frozen=True)
class SignedIn:
    """What one participant request's access check read, in one statement: the participant
    (their row, loaded), whether the session's link is theirs and not revoked, their cohort's
    time zone and the cohort's last date (the link's end is that plus the grace period), and
    the cohort's revision (what the pages keep of the cohort is kept per revision:
    web/page_cache.py; None for a cohort without one)."""
    participant: Participant
    link_id: int | None
    link_ok: bool
    timezone: str
    cohort_ends_at: datetime
    revision: int | None = None

    def valid_until(self, grace: timedelta) -> datetime:
        return self.cohort_ends_at + grace


# Built once (a page request runs it every time): the ids are bound parameters. A missing link
# id binds NULL, which no link's id equals.
_SIGNED_IN = (
    select(Participant,
           select(ParticipantLink.participant_id)
           .where(ParticipantLink.id == bindparam("link_id"),
                  ParticipantLink.revoked_at.is_(None)).scalar_subquery(),
           Cohort.timezone, Cohort.start_date, *cohort_end_columns(Participant.cohort_id),
           select(CohortRevision.number)
           .where(CohortRevision.cohort_id == Participant.cohort_id).scalar_subquery())
    .join(Cohort, Cohort.id == Participant.cohort_id)
    .where(Participant.id == bindparam("participant_id")))


def signed_in(session: Session, participant_id: int, cohort_id: object, version: object,
              link_id: int | None) -> SignedIn | None:
    """The check of a personal-link session, in one statement (a round trip on PostgreSQL)
    that also reads the cohort's revision:
    None when the participant is gone, erased, of another cohort than the session says, or
    the session is older than their last logout (`version`). The link (revoked, or another
    participant's) and its end are the participant pages' part: `SignedIn.link_ok` and
    `valid_until`. The cohort row is not loaded (its programme snapshot is unpacked on load):
    the join only shows it exists, and its end is computed in the database."""
    row = session.execute(_SIGNED_IN, {
        "participant_id": participant_id,
        "link_id": link_id if isinstance(link_id, int) else None}).one_or_none()
    if row is None:
        return None
    participant, owner, timezone, start_date, *ends, revision = row
    if participant.cohort_id != cohort_id or participant.erased_at is not None \
            or participant.session_version != version:
        return None
    return SignedIn(participant, link_id if isinstance(link_id, int) else None,
                    owner == participant.id, timezone, ends_at_of(ends, start_date), revision)


def link_token(link: ParticipantLink, secret_key: str) -> str:
    mac = hmac.new(secret_key.encode(), f"participant-link:{link.nonce}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, participant_id: int, secret_key: str,
               now: datetime) -> ParticipantLink:
    link = ParticipantLink(participant_id=participant_id, nonce=secrets.token_urlsafe(32),
                           token_hash="", created_at=now)
    link.token_hash = token_hash(link_token(link, secret_key))
    session.add(link)
    session.flush()
    return link


def issue_links(session: Session, participant_ids: list[int], secret_key: str,
                now: datetime) -> dict[int, str]:
    """A first link for each of many participants at once (one insert); id -> token."""
    links = [ParticipantLink(participant_id=pid, nonce=secrets.token_urlsafe(32),
                             token_hash="", created_at=now) for pid in participant_ids]
    tokens = {link.participant_id: link_token(link, secret_key) for link in links}
    if links:
        session.execute(insert(ParticipantLink), [
            dict(participant_id=link.participant_id, nonce=link.nonce,
                 token_hash=token_hash(tokens[link.participant_id]), created_at=now)
            for link in links])
    return tokens


def personal_token(session: Session, participant_id: int, secret_key: str,
                   now: datetime) -> str:
    """The token of the participant's newest unrevoked link (issuing one if there is none)."""
    link = session.scalars(
        select(ParticipantLink)
        .where(ParticipantLink.participant_id == participant_id,
               ParticipantLink.revoked_at.is_(None))
        .order_by(ParticipantLink.id.desc())).first()
    if link is None:
        link = issue_link(session, participant_id, secret_key, now)
    return link_token(link, secret_key)


def revoke_links(session: Session, participant_id: int, secret_key: str, now: datetime,
                 reissue: bool = True) -> ParticipantLink | None:
    """Revoke every link of a participant (logging them out everywhere); issue a fresh one.

    The calendar feed goes with them: its URL travelled in the same emails. With a fresh link
    the participant gets a fresh feed URL too (their page and later emails show it); a feed
    that had been stopped on purpose stays stopped.
    """
    session.execute(update(ParticipantLink).where(
        ParticipantLink.participant_id == participant_id,
        ParticipantLink.revoked_at.is_(None)).values(revoked_at=now))
    if calendars.revoke_calendar_feed(session, participant_id, now) and reissue:
        calendars.renew_calendar_feed(session, participant_id, secret_key, now)
    return issue_link(session, participant_id, secret_key, now) if reissue else None


def record_link_opened(session: Session, participant_id: int, now: datetime) -> None:
    """The first time the participant continues from their link (the progress grid's "link
    opened"); later openings change nothing."""
    session.execute(update(Participant).where(Participant.id == participant_id,
                                              Participant.link_opened_at.is_(None))
                    .values(link_opened_at=now))


def end_participant_sessions(session: Session, participant_id: int) -> None:
    """Log the participant out everywhere (the page's "log out"): their session cookies carry
    the participant's session version (`web/access.py`), and an older one lets nobody in.
    The personal link itself keeps working: opening it again starts a new session."""
    session.execute(update(Participant).where(Participant.id == participant_id)
                    .values(session_version=Participant.session_version + 1))


def access_by_token(session: Session, token: str, now: datetime,
                    grace: timedelta = DEFAULT_GRACE) -> Access | None:
    """Who a token lets in, or None (unknown, revoked or expired: all look the same)."""
    if not token or len(token) > 200:
        return None
    link = session.scalars(select(ParticipantLink).where(
        ParticipantLink.token_hash == token_hash(token))).one_or_none()
    return _access(session, link, now, grace)


def _access(session: Session, link: ParticipantLink | None, now: datetime,
            grace: timedelta) -> Access | None:
    if link is None or link.revoked_at is not None:
        return None
    participant = session.get(Participant, link.participant_id)
    if participant is None:
        return None
    cohort = session.get(Cohort, participant.cohort_id)
    valid_until = cohort_ends_at(session, cohort) + grace
    if now >= valid_until:
        return None
    return Access(link, participant, cohort, valid_until)
