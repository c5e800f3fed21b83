"""Staff accounts (admins, facilitators, evaluators) and who works on which cohort.

Participants are not accounts: they reach their page through a personal link (see
`cohort.web.auth` for the participant identity a personal-link session carries).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import utc_field, utcnow


class Role(StrEnum):
    """Who someone is to the application; the first three are staff roles stored on accounts."""

    ADMIN = "admin"
    FACILITATOR = "facilitator"
    EVALUATOR = "evaluator"
    PARTICIPANT = "participant"  # never stored on a User: a personal-link session


STAFF_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.FACILITATOR, Role.EVALUATOR)


class CohortRole(StrEnum):
    """How a staff member is attached to one cohort."""

    OWNER = "owner"
    CO_FACILITATOR = "co_facilitator"
    EVALUATOR = "evaluator"


class User(SQLModel, table=True):
    __tablename__ = "staff_user"  # "user" is reserved in PostgreSQL
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str = ""
    role: str
    password_hash: str
    locale: str | None = None  # the user's language setting; None: follow the browser
    active: bool = True
    # False for accounts a cohort's owner invited (services/staff.py): they work on the cohorts
    # they were added to but start none; an administrator's account page can allow it.
    may_create_cohorts: bool = True
    # Part of the login session id: bumping it (new password, deactivation) ends all sessions.
    session_version: int = 1
    created_at: datetime = utc_field(default_factory=utcnow)
    last_login_at: datetime | None = utc_field(nullable=True)


class CohortStaff(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    role: str = CohortRole.OWNER
    added_at: datetime = utc_field(default_factory=utcnow)


class StaffActivation(SQLModel, table=True):
    """A link that lets an invited colleague set their password and activate their account.

    Only SHA-256 of the token is stored (as for personal links): a copy of the database opens
    no account. Single use (`used_at`) and valid until `expires_at`.
    """

    __tablename__ = "staff_activation"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
