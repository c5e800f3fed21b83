"""Finding what a use case works on: the cohort, one of its meetings, its programme snapshot,
when it ends (personal links, calendar feeds and retention all count from there).

Every service module needs these, so they live apart from the use cases (a services module that
imported them from services/cohorts.py would tie itself to cohort creation, and cohort creation
imports several of them back). `NotFound` is the one error the edges translate: the CLI prints
a clear message, the web answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from functools import lru_cache

from sqlalchemy import func, select
from sqlmodel import Session

from ..core.programme import Programme, parse_programme
from ..models import Cohort, Meeting, Survey, Task


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


def cohort_programme(cohort: Cohort) -> Programme:
    """The template as it was when the cohort was created (later edits do not leak in)."""
    return _parse_snapshot(cohort.programme["source"])


# The snapshot's text alone, read in the database: a page about many cohorts selects this
# rather than loading each snapshot (tens of kilobytes of JSON) to read one key of it.
SNAPSHOT_SOURCE = Cohort.programme["source"].as_string()


def programme_of_snapshot(source: str) -> Programme:
    """`cohort_programme` for a snapshot's text selected with SNAPSHOT_SOURCE."""
    return _parse_snapshot(source)


@lru_cache(maxsize=64)
def _parse_snapshot(source: str) -> Programme:
    """Snapshots never change, and parsing one costs tens of milliseconds: the outbox and every
    page ask for it. Keyed by the text, so the many cohorts of one programme share one entry
    (an installation has a handful of programme texts, however many cohorts it runs)."""
    return parse_programme(source, "programme snapshot")


def cohort_ends_at(session: Session, cohort: Cohort) -> datetime:
    """The cohort's last date: its last meeting, task due time or survey closing."""
    # One round trip: this runs on every request of a signed-in participant.
    candidates = session.execute(select(
        select(func.max(Meeting.ends_at)).where(Meeting.cohort_id == cohort.id)
        .scalar_subquery(),
        select(func.max(Task.due_at)).where(Task.cohort_id == cohort.id).scalar_subquery(),
        select(func.max(Survey.closes_at)).where(Survey.cohort_id == cohort.id)
        .scalar_subquery(),
    )).one()
    found = [c for c in candidates if c is not None]
    if found:
        return max(_aware(c) for c in found)
    return datetime.combine(cohort.start_date, time(0), tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    """Belt and braces: an aggregate may come back naive or as text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
