"""Who works on a cohort: its owners add and remove co-facilitators and evaluators.

The rules, shared by the web's Staff page and anything else that changes a cohort's staff:
- the cohort's owners and admins manage its staff (`actor` None is the command line, trusted);
- a colleague joins as co-facilitator or evaluator, with an active account of the matching
  kind (a facilitator account, resp. an evaluator account; admin accounts fit either);
- an email without an account is invited: an inactive account of the matching kind is made
  (one that may not start cohorts of its own: only an administrator makes facilitators who
  own cohorts) with an activation link, single use and valid for `ACTIVATION_VALID` (7 days
  by default), whose token is stored hashed as personal links' are
  (`participant_access.token_hash`); adding an invited colleague again sends a new link and
  voids the old one. Opening the link and setting a password (`activate`) activates it;
- a cohort keeps an owner: its last owner can be neither removed nor given another role.
Every change is written to the cohort's activity log. A refused change raises a `StaffError`
and changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from ..models import Cohort, CohortRole, CohortStaff, Role, StaffActivation, User, utcnow
from . import accounts, activity
from ._lookup import NotFound
from .participant_access import token_hash

ACTIVATION_VALID = timedelta(days=7)

# The roles a colleague can be given on the Staff page (owners come from creating the cohort).
ADDABLE_ROLES: tuple[CohortRole, ...] = (CohortRole.CO_FACILITATOR, CohortRole.EVALUATOR)


class StaffError(ValueError):
    """A change to a cohort's staff that the rules refuse; nothing was changed."""


class NotAllowed(StaffError):
    """The actor may not manage this cohort's staff (its owners and admins may)."""


class NoSuchAccount(StaffError):
    """No active account of the kind the role needs has this email.

    `account_role` is the kind that was looked for (facilitator or evaluator).
    """

    def __init__(self, email: str, account_role: Role):
        super().__init__(f"there is no active {account_role} account for {email}")
        self.email = email
        self.account_role = account_role


class LastOwner(StaffError):
    """The change would leave the cohort without an owner."""


class OwnerRemovesSelf(StaffError):
    """An owner tried to remove themselves: another owner (or an admin) does that, so a
    cohort never loses the person running it by one click on their own row."""


def account_role_for(role: str) -> Role:
    """The kind of account a cohort role needs: evaluators evaluate, the rest facilitate."""
    return Role.EVALUATOR if role == CohortRole.EVALUATOR else Role.FACILITATOR


def may_manage_staff(session: Session, user: User | None, cohort_id: int) -> bool:
    """Admins, and the cohort's owners (None, the command line, may too)."""
    if user is None or user.role == Role.ADMIN:
        return True
    return accounts.cohort_role(session, user.id, cohort_id) == CohortRole.OWNER


@dataclass(frozen=True)
class Added:
    """Who was added; `activation_token` is set when they were invited (no account yet, or
    an invitation not yet taken up): the link to send them, never stored in clear."""

    user: User
    activation_token: str | None = None


def add_staff(session: Session, cohort_id: int, email: str, role: str, actor: User | None,
              now: datetime | None = None, valid_for: timedelta = ACTIVATION_VALID) -> Added:
    """Attach the account with this email to the cohort in `role` (a member already attached
    is given the new role), or invite the email if it has no account; logged."""
    _check(session, cohort_id, actor)
    if role not in ADDABLE_ROLES:
        raise StaffError(f"'{role}' is not a role a colleague can be given; "
                         f"choose {' or '.join(ADDABLE_ROLES)}")
    now = now or utcnow()
    wanted = account_role_for(role)
    user = accounts.find_user(session, email)
    token = None
    if user is None:
        user = accounts.create_user(session, email, wanted, secrets.token_urlsafe(32))
        user.active, user.may_create_cohorts = False, False
        user.password_hash = "!"  # matches no password until activated
        session.add(user)
    elif user.role not in (wanted, Role.ADMIN) or (
            not user.active and not _invited(session, user.id)):
        raise NoSuchAccount(email, wanted)
    if not user.active:
        token = _issue_activation(session, user, now, valid_for)
    if _is_last_owner(accounts.cohort_staff(session, cohort_id), user.id):
        raise LastOwner("a cohort needs an owner; its last owner cannot be given another role")
    accounts.add_cohort_staff(session, cohort_id, user, role)
    activity.log_activity(session, cohort_id, actor,
                          activity.STAFF_INVITED if token else activity.STAFF_ADDED,
                          {"email": user.email, "role": str(role)}, now)
    return Added(user, token)


# --- activation of an invited account -------------------------------------------------------

class ActivationRefused(StaffError):
    """The activation link is unknown, used or expired (the three look the same)."""


def activation_account(session: Session, token: str, now: datetime) -> User:
    """The invited account a valid activation token opens; ActivationRefused otherwise."""
    return _valid_activation(session, token, now)[1]


def activate(session: Session, token: str, password: str, now: datetime) -> User:
    """Set the invited account's password (the account page's rules, `accounts.
    check_password`) and activate it; the link is used up. Raises ActivationRefused or
    accounts.AccountError (a password the rules refuse; the link stays valid)."""
    activation, user = _valid_activation(session, token, now)
    accounts.set_password(session, user, password)
    user.active, user.last_login_at = True, now  # signed in by the activation
    activation.used_at = now
    session.add_all([user, activation])
    return user


def _valid_activation(session: Session, token: str, now: datetime
                      ) -> tuple[StaffActivation, User]:
    activation = session.scalars(select(StaffActivation).where(
        StaffActivation.token_hash == token_hash(token or ""))).one_or_none() \
        if token and len(token) <= 200 else None
    if activation is None or activation.used_at is not None or now >= activation.expires_at:
        raise ActivationRefused("this activation link is unknown, used or expired")
    user = session.get(User, activation.user_id)
    if user is None or user.active:
        raise ActivationRefused("this account is already active")
    return activation, user


def _invited(session: Session, user_id: int) -> bool:
    """Whether an inactive account is an invitation not yet taken up (and not an account
    that was activated and later deactivated by an administrator)."""
    user = session.get(User, user_id)
    return user.last_login_at is None and session.scalar(select(StaffActivation.id).where(
        StaffActivation.user_id == user_id).limit(1)) is not None


def _issue_activation(session: Session, user: User, now: datetime, valid_for: timedelta) -> str:
    """A new activation link for the account; earlier unused ones stop working."""
    session.execute(update(StaffActivation).where(
        StaffActivation.user_id == user.id, StaffActivation.used_at.is_(None))
        .values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(StaffActivation(user_id=user.id, token_hash=token_hash(token), created_at=now,
                                expires_at=now + valid_for))
    session.flush()
    return token


def remove_staff(session: Session, cohort_id: int, user_id: int, actor: User | None,
                 now: datetime | None = None) -> User:
    """Detach a staff member from the cohort, logged; not its last owner. Returns the account.

    Raises NotFound when the account does not work on this cohort.
    """
    _check(session, cohort_id, actor)
    members = accounts.cohort_staff(session, cohort_id)
    user = next((user for _link, user in members if user.id == user_id), None)
    if user is None:
        raise NotFound(f"account {user_id} does not work on cohort {cohort_id}")
    if _is_last_owner(members, user_id):
        raise LastOwner("a cohort needs an owner; the last owner cannot be removed")
    if actor is not None and actor.id == user_id and any(
            link.role == CohortRole.OWNER for link, member in members if member.id == user_id):
        raise OwnerRemovesSelf("an owner cannot remove themselves; another owner can")
    accounts.remove_cohort_staff(session, cohort_id, user_id)
    activity.log_activity(session, cohort_id, actor, activity.STAFF_REMOVED,
                          {"email": user.email}, now or utcnow())
    return user


def _is_last_owner(members: list[tuple[CohortStaff, User]], user_id: int) -> bool:
    owners = [user.id for link, user in members if link.role == CohortRole.OWNER]
    return owners == [user_id]


def _check(session: Session, cohort_id: int, actor: User | None) -> None:
    if session.get(Cohort, cohort_id) is None:
        raise NotFound(f"no cohort {cohort_id}")
    if not may_manage_staff(session, actor, cohort_id):
        raise NotAllowed(f"{actor.email} may not change who works on cohort {cohort_id}")
