"""A cohort's revision (models/revisions.py): what a worker compares its kept pages with."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from ..models import CohortRevision


def cohort_revision(session: Session, cohort_id: int) -> int | None:
    """The cohort's revision now; None for a cohort that does not exist."""
    return session.scalar(select(CohortRevision.number)
                          .where(CohortRevision.cohort_id == cohort_id))
