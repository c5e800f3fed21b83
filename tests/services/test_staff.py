"""Who may change a cohort's staff, and how (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cohort import db, services
from cohort.models import CohortRole, User
from cohort.services import accounts, activity, staff
from tests.fixtures.web import WEB_NOW


@dataclass
class Team:
    cohort_id: int
    owner: User
    co_facilitator: User
    evaluator: User
    colleague: User  # a facilitator account not on the cohort
    reviewer: User  # an evaluator account not on the cohort
    admin: User


def _user(session, email: str, role: str, active: bool = True) -> User:
    user = User(email=email, role=role, name="", password_hash="not used", active=active)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def team(engine, make_cohort) -> Team:
    with db.transaction(engine) as session:
        owner = _user(session, "owner@cohort.example", "facilitator")
    cohort = make_cohort(engine, created_by=owner, now=WEB_NOW)
    with db.transaction(engine) as session:
        team = Team(cohort.id, owner,
                    _user(session, "co@cohort.example", "facilitator"),
                    _user(session, "eva@cohort.example", "evaluator"),
                    _user(session, "colleague@cohort.example", "facilitator"),
                    _user(session, "reviewer@cohort.example", "evaluator"),
                    _user(session, "root@cohort.example", "admin"))
        accounts.add_cohort_staff(session, cohort.id, team.co_facilitator,
                                  CohortRole.CO_FACILITATOR)
        accounts.add_cohort_staff(session, cohort.id, team.evaluator, CohortRole.EVALUATOR)
    return team


def _members(engine, cohort_id) -> dict[str, str]:
    with db.transaction(engine) as session:
        return {user.email: link.role for link, user in accounts.cohort_staff(session, cohort_id)}


def _log(engine, cohort_id) -> list[tuple]:
    """The staff entries of the log, oldest first: (action, actor, details)."""
    with db.transaction(engine) as session:
        entries = activity.cohort_activity(session, cohort_id)
    return [(e.action, e.actor, e.details) for e in reversed(entries)
            if e.action in (activity.STAFF_ADDED, activity.STAFF_REMOVED)]


def test_the_owner_adds_colleagues_and_each_addition_is_logged(engine, team):
    with db.transaction(engine) as session:
        added = staff.add_staff(session, team.cohort_id, " Colleague@Cohort.example ",
                                CohortRole.CO_FACILITATOR, team.owner, WEB_NOW)
        assert added.user.id == team.colleague.id and added.activation_token is None
        staff.add_staff(session, team.cohort_id, "reviewer@cohort.example", "evaluator",
                        team.owner, WEB_NOW)
    members = _members(engine, team.cohort_id)
    assert members["colleague@cohort.example"] == "co_facilitator"
    assert members["reviewer@cohort.example"] == "evaluator"
    assert _log(engine, team.cohort_id) == [
        ("staff_added", "owner@cohort.example",
         {"email": "colleague@cohort.example", "role": "co_facilitator"}),
        ("staff_added", "owner@cohort.example",
         {"email": "reviewer@cohort.example", "role": "evaluator"}),
    ]


def test_admins_and_the_command_line_may_manage_any_cohort(engine, team):
    with db.transaction(engine) as session:
        assert staff.may_manage_staff(session, team.admin, team.cohort_id)
        assert staff.may_manage_staff(session, None, team.cohort_id)
        staff.add_staff(session, team.cohort_id, "colleague@cohort.example", "co_facilitator",
                        team.admin, WEB_NOW)
        staff.remove_staff(session, team.cohort_id, team.evaluator.id, None, WEB_NOW)
    assert [(action, actor) for action, actor, _details in _log(engine, team.cohort_id)] == [
        ("staff_added", "root@cohort.example"), ("staff_removed", "system")]


@pytest.mark.parametrize("who", ["co_facilitator", "evaluator", "colleague"])
def test_only_owners_and_admins_may_change_the_staff(engine, team, who):
    actor = getattr(team, who)
    with db.transaction(engine) as session:
        assert not staff.may_manage_staff(session, actor, team.cohort_id)
    with pytest.raises(staff.NotAllowed), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, "reviewer@cohort.example", "evaluator",
                        actor, WEB_NOW)
    with pytest.raises(staff.NotAllowed), db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.evaluator.id, actor, WEB_NOW)
    assert "reviewer@cohort.example" not in _members(engine, team.cohort_id)
    assert "eva@cohort.example" in _members(engine, team.cohort_id)
    assert _log(engine, team.cohort_id) == []


@pytest.mark.parametrize("email, role, kind", [
    ("colleague@cohort.example", "evaluator", "evaluator"),  # a facilitator's account
    ("reviewer@cohort.example", "co_facilitator", "facilitator"),  # an evaluator's account
    ("sleeper@cohort.example", "co_facilitator", "facilitator"),  # deactivated by an admin
])
def test_a_colleague_needs_an_active_account_of_the_matching_kind(engine, team, email, role,
                                                                    kind):
    with db.transaction(engine) as session:
        _user(session, "sleeper@cohort.example", "facilitator", active=False)
    with pytest.raises(staff.NoSuchAccount) as refused, db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, email, role, team.owner, WEB_NOW)
    assert refused.value.account_role == kind
    assert email not in _members(engine, team.cohort_id)
    assert _log(engine, team.cohort_id) == []


def test_an_admin_account_fits_either_role(engine, team):
    for role in ("evaluator", "co_facilitator"):
        with db.transaction(engine) as session:
            staff.add_staff(session, team.cohort_id, "root@cohort.example", role, team.owner,
                            WEB_NOW)
        assert _members(engine, team.cohort_id)["root@cohort.example"] == role


def test_nobody_is_made_owner_through_the_staff_rules(engine, team):
    with pytest.raises(staff.StaffError, match="not a role"), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, "colleague@cohort.example", "owner",
                        team.owner, WEB_NOW)
    assert "colleague@cohort.example" not in _members(engine, team.cohort_id)


def test_the_last_owner_cannot_be_removed(engine, team):
    with pytest.raises(staff.LastOwner), db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.owner.id, team.owner, WEB_NOW)
    with pytest.raises(staff.LastOwner), db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.owner.id, team.admin, WEB_NOW)
    assert _members(engine, team.cohort_id)["owner@cohort.example"] == "owner"
    # With a second owner either may go.
    with db.transaction(engine) as session:
        accounts.add_cohort_staff(session, team.cohort_id, team.colleague, CohortRole.OWNER)
        removed = staff.remove_staff(session, team.cohort_id, team.owner.id, team.colleague,
                                     WEB_NOW)
        assert removed.email == "owner@cohort.example"
    assert "owner@cohort.example" not in _members(engine, team.cohort_id)
    assert _log(engine, team.cohort_id) == [
        ("staff_removed", "colleague@cohort.example", {"email": "owner@cohort.example"})]


def test_the_last_owner_cannot_be_given_another_role(engine, team):
    """Adding the only owner again as a colleague would leave the cohort without an owner."""
    with pytest.raises(staff.LastOwner), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, "owner@cohort.example", "co_facilitator",
                        team.owner, WEB_NOW)
    assert _members(engine, team.cohort_id)["owner@cohort.example"] == "owner"
    with db.transaction(engine) as session:
        accounts.add_cohort_staff(session, team.cohort_id, team.admin, CohortRole.OWNER)
        staff.add_staff(session, team.cohort_id, "owner@cohort.example", "co_facilitator",
                        team.admin, WEB_NOW)
    assert _members(engine, team.cohort_id)["owner@cohort.example"] == "co_facilitator"


def test_removing_someone_not_on_the_cohort_or_from_no_cohort_is_not_found(engine, team):
    with pytest.raises(services.NotFound), db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.colleague.id, team.owner, WEB_NOW)
    with pytest.raises(services.NotFound), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id + 1, "colleague@cohort.example",
                        "co_facilitator", team.admin, WEB_NOW)
    assert _log(engine, team.cohort_id) == []


def test_an_owner_cannot_remove_themselves_another_owner_can(engine, team):
    with db.transaction(engine) as session:
        accounts.add_cohort_staff(session, team.cohort_id, team.colleague, CohortRole.OWNER)
    with db.transaction(engine) as session, pytest.raises(staff.OwnerRemovesSelf):
        staff.remove_staff(session, team.cohort_id, team.owner.id, team.owner, WEB_NOW)
    assert _members(engine, team.cohort_id)["owner@cohort.example"] == CohortRole.OWNER
    with db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.owner.id, team.colleague, WEB_NOW)
    assert "owner@cohort.example" not in _members(engine, team.cohort_id)
