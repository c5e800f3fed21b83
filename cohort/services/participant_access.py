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

from sqlalchemy import insert, select, update
from sqlmodel import Session

from ..models import Cohort, Participant, ParticipantLink
from . import calendars
from ._lookup import cohort_ends_at

DEFAULT_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class Access:
    link: ParticipantLink
    participant: Participant
    cohort: Cohort
    valid_until: datetime


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


def access_by_link_id(session: Session, link_id: int, now: datetime,
                      grace: timedelta = DEFAULT_GRACE) -> Access | None:
    """Re-checked on every request of a logged-in participant, so revoking bites at once."""
    return _access(session, session.get(ParticipantLink, link_id), now, grace)


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
