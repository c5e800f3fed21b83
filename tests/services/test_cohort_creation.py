"""Creating a cohort as someone: the use case of the web's New cohort page and `cohort create`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cohort import db, services
from cohort.core.planning import MeetingOverride
from cohort.models import Meeting, User
from cohort.services import accounts, activity
from tests.fixtures.web import COHORT_START, PEOPLE, WEB_NOW


def _new(lib, title="Hold 1") -> services.NewCohort:
    return services.NewCohort(lib.programmes["digital-lederskab"],
                              lib.sources["digital-lederskab"], COHORT_START, title)


def _user(session, email: str, role: str = "facilitator") -> User:
    user = User(email=email, role=role, name="", password_hash="not used")
    session.add(user)
    session.flush()
    return user


def test_the_creator_becomes_owner_and_the_creation_is_logged(engine, library):
    with db.transaction(engine) as session:
        creator = _user(session, "creator@cohort.example")
        # Workshop 1 moved on the preview: a naive start is the cohort's local time.
        moved = {"workshop-1": MeetingOverride(starts_at=datetime(2025, 4, 22, 9, 0),
                                               location="Vejle Rådhus")}
        cohort = services.create_cohort_as(session, _new(library), creator,
                                           overrides=moved, participants=PEOPLE, now=WEB_NOW)
    with db.transaction(engine) as session:
        staff = [(link.role, user.email)
                 for link, user in accounts.cohort_staff(session, cohort.id)]
        entries = activity.cohort_activity(session, cohort.id)
        meetings = {m.key: m for m in session.scalars(
            select(Meeting).where(Meeting.cohort_id == cohort.id))}
    assert staff == [("owner", "creator@cohort.example")]
    assert [(e.action, e.actor, e.actor_id, e.details, e.created_at) for e in entries] == [
        ("cohort_created", "creator@cohort.example", creator.id,
         {"title": "Hold 1", "programme": "digital-lederskab"}, WEB_NOW)]
    workshop = meetings["workshop-1"]
    assert workshop.starts_at.isoformat() == "2025-04-22T07:00:00+00:00"  # 09:00 in Copenhagen
    assert workshop.override_location == "Vejle Rådhus" and workshop.sequence == 0
    assert meetings["webinar-2"].override_starts_at is None


def test_without_an_actor_there_is_no_owner_and_the_log_says_system(engine, library):
    with db.transaction(engine) as session:
        cohort = services.create_cohort_as(session, _new(library), None, now=WEB_NOW)
    with db.transaction(engine) as session:
        assert accounts.cohort_staff(session, cohort.id) == []
        [entry] = activity.cohort_activity(session, cohort.id)
    assert (entry.action, entry.actor, entry.actor_id) == ("cohort_created", "system", None)
