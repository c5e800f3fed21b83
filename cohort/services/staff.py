"""Who works on a cohort: its owners add and remove co-facilitators and evaluators.

The rules, shared by the web's Staff page and anything else that changes a cohort's staff:
- the cohort's owners and admins manage its staff (`actor` None is the command line, trusted);
- a colleague joins as co-facilitator or evaluator, with an active account of the matching
  kind (a facilitator account, resp. an evaluator account; admin accounts fit either);
- a cohort keeps an owner: its last owner can be neither removed nor given another role.
Every change is written to the cohort's activity log. A refused change raises a `StaffError`
and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from ..models import Cohort, CohortRole, CohortStaff, Role, User, utcnow
from . import accounts, activity
from ._lookup import NotFound

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


def add_staff(session: Session, cohort_id: int, email: str, role: str, actor: User | None,
              now: datetime | None = None) -> User:
    """Attach the account with this email to the cohort in `role` (a member already attached
    is given the new role), logged. Returns the account."""
    _check(session, cohort_id, actor)
    if role not in ADDABLE_ROLES:
        raise StaffError(f"'{role}' is not a role a colleague can be given; "
                         f"choose {' or '.join(ADDABLE_ROLES)}")
    wanted = account_role_for(role)
    user = accounts.find_user(session, email)
    if user is None or user.role not in (wanted, Role.ADMIN) or not user.active:
        raise NoSuchAccount(email, wanted)
    if _is_last_owner(accounts.cohort_staff(session, cohort_id), user.id):
        raise LastOwner("a cohort needs an owner; its last owner cannot be given another role")
    accounts.add_cohort_staff(session, cohort_id, user, role)
    activity.log_activity(session, cohort_id, actor, activity.STAFF_ADDED,
                          {"email": user.email, "role": str(role)}, now or utcnow())
    return user


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
