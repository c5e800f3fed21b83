"""Re-planning a launched cohort keeps the mail policy's schedule it launched with: the welcome
(and the invitations) the launch sent are part of the day they went out on, so the emails
planned around them keep their times when anything is planned again (each test runs on
SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.core.participants import ParticipantRow
from cohort.models import Cohort, Delivery

PEOPLE = [ParticipantRow(f"Leder {i}", f"leder{i}@example.org", "Kommune", "Leder", "da")
          for i in range(3)]
START = date(2025, 4, 8)
LAUNCH = datetime(2025, 4, 1, 8, 30, tzinfo=UTC)  # a Tuesday, a week before the kick-off


def pending(engine, cohort_id) -> dict[tuple[str, str, str], datetime]:
    with db.transaction(engine) as session:
        return {(d.kind, d.anchor, d.recipient): d.send_at for d in session.scalars(
            select(Delivery).where(Delivery.cohort_id == cohort_id,
                                   Delivery.state == kinds.PENDING))}


def launched(engine, make_cohort) -> int:
    cohort_id = make_cohort(engine, people=PEOPLE, start=START, launched=False).id
    with db.transaction(engine) as session:
        services.launch_cohort(session, cohort_id, None, LAUNCH)
    return cohort_id


def test_planning_a_launched_cohort_again_keeps_its_emails_times(engine, make_cohort):
    cohort_id = launched(engine, make_cohort)
    before = pending(engine, cohort_id)
    # Something around the launch day bundles with the welcome (else this proves nothing).
    welcome_at = before[kinds.WELCOME, "cohort", PEOPLE[0].email]
    assert any(at == welcome_at and kind in kinds.REPLANNED_KINDS
               for (kind, _anchor, _who), at in before.items())
    with db.transaction(engine) as session:  # nothing changed, planned again a day later
        services.meetings.replan(session, session.get(Cohort, cohort_id),
                                 LAUNCH + timedelta(days=1))
    assert pending(engine, cohort_id) == before


def test_a_moved_meeting_moves_only_its_own_emails(engine, make_cohort):
    cohort_id = launched(engine, make_cohort)
    before = pending(engine, cohort_id)
    with db.transaction(engine) as session:
        services.meetings.reschedule(session, cohort_id, "kickout",
                                     datetime(2025, 10, 2, 8, 0, tzinfo=UTC), None,
                                     now=LAUNCH + timedelta(hours=2))
    after = pending(engine, cohort_id)
    near = [key for key, at in before.items()
            if at < LAUNCH + timedelta(days=14) and key[0] in kinds.REPLANNED_KINDS]
    assert near and all(after[key] == before[key] for key in near)
