"""Staff accounts: create, authenticate, and which cohorts a staff member may work on."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, bindparam, func, null, select, update
from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.participants import is_valid_email, normalise_email
from ..models import (
    STAFF_ROLES,
    Cohort,
    CohortRevision,
    CohortRole,
    CohortStaff,
    Role,
    User,
    utcnow,
)

MIN_PASSWORD_LENGTH = 10


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so a login takes as long whether or not the
    account exists (no timing hint about which emails have accounts). Made on first use: a
    scrypt hash costs a noticeable part of a second, which every CLI start would pay."""
    return generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """Bad input for an account: unknown role, invalid email, short password, duplicate."""


def create_user(
    session: Session, email: str, role: str, password: str, name: str = "",
    locale: str | None = None,
) -> User:
    email = normalise_email(email)
    if not is_valid_email(email):
        raise AccountError(f"'{email}' is not a valid email address")
    if role not in STAFF_ROLES:
        raise AccountError(f"'{role}' is not a role; choose one of {', '.join(STAFF_ROLES)}")
    if find_user(session, email) is not None:
        raise AccountError(f"there is already an account for {email}")
    check_password(password)
    user = User(email=email, role=str(role), name=name.strip(),
                password_hash=generate_password_hash(password), locale=locale)
    session.add(user)
    session.flush()
    return user


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def set_password(session: Session, user: User, password: str) -> None:
    """A new password also ends every session signed in with the old one."""
    check_password(password)
    user.password_hash = generate_password_hash(password)
    user.session_version += 1
    session.add(user)


def end_sessions(session: Session, user_id: int) -> None:
    """Log the user out everywhere (logout): every session cookie carries the session version
    it was signed in with (`web/auth.py`), and one with an older version signs nobody in."""
    session.execute(update(User).where(User.id == user_id)
                    .values(session_version=User.session_version + 1))


def update_user(session: Session, user: User, *, role: str | None = None,
                active: bool | None = None, name: str | None = None,
                may_create_cohorts: bool | None = None) -> None:
    if role is not None:
        if role not in STAFF_ROLES:
            raise AccountError(f"'{role}' is not a role")
        user.role = role
    if active is not None and active != user.active:
        user.active = active
        user.session_version += 1
    if name is not None:
        user.name = name.strip()
    if may_create_cohorts is not None:
        user.may_create_cohorts = may_create_cohorts
    session.add(user)


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def authenticate(session: Session, email: str, password: str,
                 now: datetime | None = None) -> User | None:
    """The active user with this email and password, else None (never says which was wrong)."""
    user = find_user(session, email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = now or utcnow()
    session.add(user)
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12)


# --- who works on which cohort -------------------------------------------------------------

def add_cohort_staff(session: Session, cohort_id: int, user: User,
                     role: str = CohortRole.OWNER) -> CohortStaff:
    link = session.scalars(select(CohortStaff).where(
        CohortStaff.cohort_id == cohort_id, CohortStaff.user_id == user.id)).first()
    if link is None:
        link = CohortStaff(cohort_id=cohort_id, user_id=user.id, role=str(role))
    else:
        link.role = str(role)
    session.add(link)
    session.flush()
    return link


def remove_cohort_staff(session: Session, cohort_id: int, user_id: int) -> None:
    link = session.scalars(select(CohortStaff).where(
        CohortStaff.cohort_id == cohort_id, CohortStaff.user_id == user_id)).first()
    if link is not None:
        session.delete(link)


def cohort_staff(session: Session, cohort_id: int) -> list[tuple[CohortStaff, User]]:
    return [tuple(row) for row in session.execute(
        select(CohortStaff, User).join(User, User.id == CohortStaff.user_id)
        .where(CohortStaff.cohort_id == cohort_id).order_by(CohortStaff.role, User.email))]


@dataclass(frozen=True)
class CohortCheck:
    """What a cohort page's access check reads in one statement: the user's link to the
    cohort (owner, co_facilitator, evaluator or None), and the cohort's revision, which the
    pages a worker keeps are compared with (read here, before the page reads any data)."""

    link: str | None
    revision: int | None


def check_cohort(session: Session, cohort_id: int, user_id: int | None) -> CohortCheck | None:
    """None if the cohort does not exist. Its row is not loaded: it carries the programme
    snapshot, unpacked on load."""
    link = (select(CohortStaff.role).where(CohortStaff.cohort_id == cohort_id,
                                           CohortStaff.user_id == user_id).scalar_subquery()
            if user_id is not None else null())
    found = session.execute(
        select(link, CohortRevision.number).select_from(Cohort)
        .outerjoin(CohortRevision, CohortRevision.cohort_id == Cohort.id)
        .where(Cohort.id == cohort_id)).first()
    return None if found is None else CohortCheck(found[0], found[1])


def cohort_role(session: Session, user_id: int, cohort_id: int) -> str | None:
    """The user's link to the cohort (owner, co_facilitator, evaluator) or None."""
    return session.scalar(select(CohortStaff.role).where(
        CohortStaff.cohort_id == cohort_id, CohortStaff.user_id == user_id))


def visible_cohorts(session: Session, user: User) -> list[Cohort]:
    """Admins see every cohort; everyone else the cohorts they are attached to."""
    ids, params = visible_cohort_ids(user)
    return list(session.scalars(select(Cohort).where(Cohort.id.in_(ids))
                                .order_by(Cohort.start_date.desc(), Cohort.id), params))


# The two answers of visible_cohort_ids, made once: a landing page builds its queries on them
# and keeps those built (services/cohort_list.py), the user's id being a bound parameter.
EVERY_COHORT = select(Cohort.id)
STAFF_COHORTS = select(CohortStaff.cohort_id).where(CohortStaff.user_id == bindparam("staff_id"))


class StaffIdentity(Protocol):
    """A staff user as far as visibility goes: a `User` row or the web's signed-in copy."""

    id: int
    role: str


def visible_cohort_ids(user: StaffIdentity) -> tuple[Select, dict[str, int]]:
    """The ids of the cohorts `visible_cohorts` lists, as a query to build on and its
    parameters (the landing pages count and page them in the database)."""
    if user.role == Role.ADMIN:
        return EVERY_COHORT, {}
    return STAFF_COHORTS, {"staff_id": user.id}


def count_users(session: Session, role: str | None = None) -> int:
    query = select(func.count()).select_from(User)
    if role is not None:
        query = query.where(User.role == role)
    return session.scalar(query) or 0


def ensure_demo_facilitator(
    session: Session, email: str = "facilitator@cohort.example"
) -> tuple[User, str | None]:
    """The demo login: an existing facilitator, or a new one with a fresh password.

    Returns the user and the new password (None when the facilitator already existed, since
    only its hash is stored). Cohorts nobody owns are given to this facilitator.
    """
    user = session.scalars(select(User).where(User.role == Role.FACILITATOR)
                           .order_by(User.id)).first()
    password = None
    if user is None:
        password = generate_password()
        user = create_user(session, email, Role.FACILITATOR, password, name="Demo Facilitator")
    owned = select(CohortStaff.cohort_id).where(CohortStaff.role == CohortRole.OWNER)
    for cohort_id in session.scalars(select(Cohort.id).where(Cohort.id.not_in(owned))):
        add_cohort_staff(session, cohort_id, user, CohortRole.OWNER)
    return user, password
