"""Finding what a use case works on: the cohort, one of its meetings, its programme snapshot,
when it ends (personal links, calendar feeds and retention all count from there).

Every service module needs these, so they live apart from the use cases (a services module that
imported them from services/cohorts.py would tie itself to cohort creation, and cohort creation
imports several of them back). `NotFound` is the one error the edges translate: the CLI prints
a clear message, the web answers 404.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time
from functools import lru_cache

from sqlalchemy import func, select
from sqlmodel import Session

from ..core.anonymity import checked_min_group_size
from ..core.programme import Programme, parse_programme
from ..core.surveys import SurveySpec, survey_spec
from ..db import sha256_hex, text_digest
from ..models import Cohort, Meeting, Participant, Survey, Task


class NotFound(LookupError):
    """A cohort, meeting or participant that does not exist (the web turns this into 404)."""


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(f"no cohort {cohort_id}")
    return cohort


def get_meeting(session: Session, cohort_id: int, meeting_key: str) -> Meeting:
    """A meeting of the cohort by key; NotFound (404 on the web) for anything else."""
    meeting = session.scalars(select(Meeting).where(
        Meeting.cohort_id == cohort_id, Meeting.key == meeting_key)).one_or_none()
    if meeting is None:
        raise NotFound(f"cohort {cohort_id} has no meeting '{meeting_key}'")
    return meeting


def cohort_meetings(session: Session, cohort_id: int) -> list[Meeting]:
    """All of the cohort's meetings, cancelled ones too, by start (position breaks a tie)."""
    return list(session.scalars(select(Meeting).where(Meeting.cohort_id == cohort_id)
                                .order_by(Meeting.starts_at, Meeting.position)))


def cohort_participants(session: Session, cohort_id: int) -> list[Participant]:
    """Every participant of the cohort by name, erased ones too: their marks still count in
    the figures (`services.participants.list_participants` leaves them out)."""
    return list(session.scalars(select(Participant).where(Participant.cohort_id == cohort_id)
                                .order_by(Participant.name, Participant.id)))


def cohort_programme(cohort: Cohort) -> Programme:
    """The template as it was when the cohort was created (later edits do not leak in)."""
    return _parse_snapshot(cohort.programme["source"])


# The snapshot's text alone, read in the database: a page about many cohorts selects this
# rather than loading each snapshot (tens of kilobytes of JSON) to read one key of it.
SNAPSHOT_SOURCE = Cohort.programme["source"].as_string()


def programme_of_snapshot(source: str) -> Programme:
    """`cohort_programme` for a snapshot's text selected with SNAPSHOT_SOURCE."""
    return _parse_snapshot(source)


# The SHA-256 of the snapshot's text, computed in the database: 64 characters where the text
# is tens of kilobytes, for pages that read many cohorts' or read one on every request.
SNAPSHOT_DIGEST = text_digest(SNAPSHOT_SOURCE)
_BY_DIGEST: dict[str, Programme] = {}
_BY_DIGEST_MAX = 64
_CACHES_LOCK = threading.Lock()


def programme_of_digest(session: Session, cohort_id: int, digest: str) -> Programme:
    """`cohort_programme` for a cohort whose snapshot's SNAPSHOT_DIGEST is `digest`: from the
    cache of programmes by digest, else its text is read (once per text and process) and
    checked against the digest. A handful of texts serve every cohort of an installation."""
    found = _BY_DIGEST.get(digest)
    if found is None:
        source = session.scalar(select(SNAPSHOT_SOURCE).where(Cohort.id == cohort_id))
        if source is None or sha256_hex(source) != digest:
            raise NotFound(f"cohort {cohort_id} has no programme snapshot {digest}")
        found = _kept(_BY_DIGEST, digest, _parse_snapshot(source), _BY_DIGEST_MAX)
    return found


_SPECS: dict[tuple[str, str], tuple[Programme, SurveySpec, int]] = {}
_SPECS_MAX = 256


def survey_spec_of_digest(session: Session, cohort_id: int, digest: str,
                          template_key: str) -> tuple[SurveySpec, int]:
    """The survey `template_key` of the programme whose SNAPSHOT_DIGEST is `digest` (see
    `programme_of_digest`), with the programme's minimum group size (checked): made once per
    programme text and survey and kept, so that a survey's page and every answer to it get
    the same SurveySpec object (the web keeps the survey's form class by it). A spec is
    served only while its programme is in the cache by digest."""
    found = _SPECS.get((digest, template_key))
    if found is None or _BY_DIGEST.get(digest) is not found[0]:
        programme = programme_of_digest(session, cohort_id, digest)
        found = _kept(_SPECS, (digest, template_key), (
            programme, survey_spec(programme, template_key),
            checked_min_group_size(programme.evaluation.min_group_size)), _SPECS_MAX)
    return found[1], found[2]


def _kept(cache: dict, key, value, most: int):
    """`value` put in `cache` under `key`, the oldest entry dropped first when `most` are
    there; the threads of one worker share the caches."""
    with _CACHES_LOCK:
        if len(cache) >= most:
            cache.pop(next(iter(cache)))
        cache[key] = value
    return value


@lru_cache(maxsize=64)
def _parse_snapshot(source: str) -> Programme:
    """Snapshots never change, and parsing one costs tens of milliseconds: the outbox and every
    page ask for it. Keyed by the text, so the many cohorts of one programme share one entry
    (an installation has a handful of programme texts, however many cohorts it runs)."""
    return parse_programme(source, "programme snapshot")


def cohort_ends_at(session: Session, cohort: Cohort) -> datetime:
    """The cohort's last date: its last meeting, task due time or survey closing."""
    # One round trip: this runs on every request of a signed-in participant.
    candidates = session.execute(select(*cohort_end_columns(cohort.id))).one()
    return ends_at_of(candidates, cohort.start_date)


def cohort_end_columns(cohort_id) -> tuple:
    """The three candidates of `cohort_ends_at` as columns to select, for a cohort id or a
    column holding one (the participant access check selects them with its other columns)."""
    return (
        select(func.max(Meeting.ends_at)).where(Meeting.cohort_id == cohort_id)
        .scalar_subquery(),
        select(func.max(Task.due_at)).where(Task.cohort_id == cohort_id).scalar_subquery(),
        select(func.max(Survey.closes_at)).where(Survey.cohort_id == cohort_id)
        .scalar_subquery(),
    )


def ends_at_of(candidates, start_date: date) -> datetime:
    """`cohort_ends_at` from the values of `cohort_end_columns` and the cohort's start."""
    found = [c for c in candidates if c is not None]
    if found:
        return max(_aware(c) for c in found)
    return datetime.combine(start_date, time(0), tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    """Belt and braces: an aggregate may come back naive or as text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
