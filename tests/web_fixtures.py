"""Fixtures for the web tests: staff accounts, a cohort with people, signing in a test client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.core.programme import load_library
from cohort.models import CohortRole, CohortStaff, Participant, ParticipantLink, User
from cohort.web.access import PARTICIPANT_SESSION_KEY
from cohort.web.participant import SESSION_KEY as LINK_SESSION_KEY

PROGRAMMES = Path(__file__).resolve().parent.parent / "programmes"
PASSWORD = "correct horse battery"
# The cohort starts 8 April 2025; "now" in web tests is a month before.
COHORT_START = date(2025, 4, 8)
WEB_NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
PEOPLE = [
    ParticipantRow("Anne Jensen", "anne@vejle.example", "Vejle Kommune", "Leder", "da"),
    ParticipantRow("Bo Holm", "bo@kolding.example", "Kolding Kommune", "Leder", "da"),
    ParticipantRow("Cecilie Dahl", "cecilie@odense.example", "Odense Kommune", "Leder", "da"),
]


@pytest.fixture(scope="session")
def password_hash() -> str:
    """A real scrypt hash, computed once (hashing takes ~0.1 s, far too slow per user)."""
    return generate_password_hash(PASSWORD)


@pytest.fixture(scope="session")
def programme_library():
    return load_library(PROGRAMMES)


@dataclass
class Staff:
    admin: User
    owner: User
    other: User  # a facilitator who does not work on the cohort
    evaluator: User


@pytest.fixture
def web_app(app):
    app.config["COHORT_NOW"] = WEB_NOW
    return app


@pytest.fixture
def engine_of_app(web_app):
    return web_app.extensions["cohort.engine"]


@pytest.fixture
def make_user(engine_of_app, password_hash):
    def make(email: str, role: str, name: str = "") -> User:
        with db.transaction(engine_of_app) as session:
            user = User(email=email, role=role, name=name, password_hash=password_hash)
            session.add(user)
            session.flush()
        return user
    return make


@pytest.fixture
def cohort_id(engine_of_app, programme_library) -> int:
    lib = programme_library
    new = services.NewCohort(lib.programmes["digital-lederskab"],
                             lib.sources["digital-lederskab"], COHORT_START, "Hold 1")
    with db.transaction(engine_of_app) as session:
        return services.create_cohort(session, new, PEOPLE, now=WEB_NOW).id


@pytest.fixture
def staff(make_user, engine_of_app, cohort_id) -> Staff:
    team = Staff(
        admin=make_user("admin@cohort.example", "admin", "Ada Admin"),
        owner=make_user("owner@cohort.example", "facilitator", "Olga Owner"),
        other=make_user("other@cohort.example", "facilitator", "Otto Other"),
        evaluator=make_user("evaluator@cohort.example", "evaluator", "Eva Evaluator"),
    )
    with db.transaction(engine_of_app) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=team.owner.id,
                                role=CohortRole.OWNER))
        session.add(CohortStaff(cohort_id=cohort_id, user_id=team.evaluator.id,
                                role=CohortRole.EVALUATOR))
    return team


@pytest.fixture
def first_participant(engine_of_app, cohort_id) -> Participant:
    with db.transaction(engine_of_app) as session:
        return services.participants.list_participants(session, cohort_id)[0]


def sign_in(client, user: User) -> None:
    """What a successful login leaves in the session (Flask-Login's user id)."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}.{user.session_version}"
        session["_fresh"] = True


def sign_in_participant(client, participant: Participant) -> None:
    """What a personal-link visit leaves in the session (see cohort.web.participant)."""
    app = client.application
    with db.transaction(app.extensions["cohort.engine"]) as session:
        services.personal_token(session, participant.id, app.config["SECRET_KEY"], WEB_NOW)
        link = session.scalars(select(ParticipantLink).where(
            ParticipantLink.participant_id == participant.id,
            ParticipantLink.revoked_at.is_(None))).first()
    with client.session_transaction() as session:
        session[PARTICIPANT_SESSION_KEY] = {"id": participant.id,
                                            "cohort_id": participant.cohort_id}
        session[LINK_SESSION_KEY] = link.id


@pytest.fixture
def sqlite_only_url(tmp_path) -> str:
    """For tests about HTTP behaviour, not storage: one SQLite run is enough."""
    return f"sqlite:///{tmp_path / 'cohort.sqlite3'}"
