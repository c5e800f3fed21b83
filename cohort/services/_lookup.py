"""Finding what a use case works on: the cohort, one of its meetings, its programme snapshot.

Every service module needs these, so they live apart from the use cases (a services module that
imported them from services/cohorts.py would tie itself to cohort creation, and cohort creation
imports several of them back). `NotFound` is the one error the edges translate: the CLI prints
a clear message, the web answers 404.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlmodel import Session

from ..core.programme import Programme, parse_programme
from ..models import Cohort, Meeting


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


@lru_cache(maxsize=64)
def _parse_snapshot(source: str) -> Programme:
    """Snapshots never change, and parsing one costs tens of milliseconds: the outbox and every
    page ask for it. Keyed by the text, so the many cohorts of one programme share one entry
    (an installation has a handful of programme texts, however many cohorts it runs)."""
    return parse_programme(source, "programme snapshot")
