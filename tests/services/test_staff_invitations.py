"""An owner invites a colleague who has no account: an inactive account and an activation link
(single use, expiring, stored hashed). Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from cohort import db
from cohort.models import CohortRole, StaffActivation, User
from cohort.services import accounts, activity, staff
from tests.fixtures.web import WEB_NOW
from tests.services import test_staff as staff_tests
from tests.services.test_staff import Team, _members

team = staff_tests.team  # the same cohort and staff as the staff rules' tests

NEW = "new.colleague@region.example"


def _invite(engine, team: Team, role: str = "evaluator", email: str = NEW,
            now=WEB_NOW) -> staff.Added:
    with db.transaction(engine) as session:
        return staff.add_staff(session, team.cohort_id, email, role, team.owner, now)


def _account(engine, email: str = NEW) -> User:
    with db.transaction(engine) as session:
        return accounts.find_user(session, email)


@pytest.mark.parametrize("role, kind", [("evaluator", "evaluator"),
                                        ("co_facilitator", "facilitator")])
def test_an_email_without_an_account_is_invited(engine, team, role, kind):
    added = _invite(engine, team, role, email=" New.Colleague@Region.example ")
    assert added.activation_token and len(added.activation_token) >= 40
    user = _account(engine)
    assert (user.role, user.active, user.may_create_cohorts) == (kind, False, False)
    assert _members(engine, team.cohort_id)[NEW] == role
    with db.transaction(engine) as session:
        rows = session.scalars(select(StaffActivation)).all()
        entries = activity.cohort_activity(session, team.cohort_id)
    # Only the token's hash is stored, the same hash as personal links'.
    assert [r.token_hash for r in rows] == [
        hashlib.sha256(added.activation_token.encode()).hexdigest()]
    assert added.activation_token not in {r.token_hash for r in rows}
    assert rows[0].expires_at == WEB_NOW + staff.ACTIVATION_VALID == WEB_NOW + timedelta(days=7)
    assert [(e.action, e.details) for e in entries if e.action.startswith("staff")] == [
        ("staff_invited", {"email": NEW, "role": role})]
    # Nobody signs in as them before they chose a password.
    with db.transaction(engine) as session:
        assert accounts.authenticate(session, NEW, "!") is None


def test_the_link_sets_the_password_once(engine, team):
    token = _invite(engine, team).activation_token
    with db.transaction(engine) as session:
        assert staff.activation_account(session, token, WEB_NOW).email == NEW
        staff.activate(session, token, "a good long password", WEB_NOW + timedelta(hours=1))
    user = _account(engine)
    assert user.active and check_password_hash(user.password_hash, "a good long password")
    with db.transaction(engine) as session:
        assert accounts.authenticate(session, NEW, "a good long password").id == user.id
    for attempt in (staff.activation_account, ):
        with pytest.raises(staff.ActivationRefused), db.transaction(engine) as session:
            attempt(session, token, WEB_NOW)
    with pytest.raises(staff.ActivationRefused), db.transaction(engine) as session:
        staff.activate(session, token, "another long password", WEB_NOW)


def test_the_password_rules_are_the_account_pages(engine, team):
    token = _invite(engine, team).activation_token
    with pytest.raises(accounts.AccountError), db.transaction(engine) as session:
        staff.activate(session, token, "short", WEB_NOW)
    with db.transaction(engine) as session:  # the link still works
        staff.activate(session, token, "x" * accounts.MIN_PASSWORD_LENGTH, WEB_NOW)


def test_the_link_expires(engine, team):
    token = _invite(engine, team).activation_token
    with db.transaction(engine) as session:
        staff.activation_account(session, token, WEB_NOW + timedelta(days=7, seconds=-1))
    with pytest.raises(staff.ActivationRefused), db.transaction(engine) as session:
        staff.activate(session, token, "a good long password", WEB_NOW + timedelta(days=7))
    assert not _account(engine).active


@pytest.mark.parametrize("token", ["", "made-up", "x" * 500])
def test_unknown_tokens_are_refused(engine, team, token):
    _invite(engine, team)
    with pytest.raises(staff.ActivationRefused), db.transaction(engine) as session:
        staff.activation_account(session, token, WEB_NOW)


def test_inviting_again_sends_a_new_link_and_voids_the_old(engine, team):
    first = _invite(engine, team, "evaluator").activation_token
    second = _invite(engine, team, "evaluator", now=WEB_NOW + timedelta(days=8)).activation_token
    assert second and second != first
    with pytest.raises(staff.ActivationRefused), db.transaction(engine) as session:
        staff.activation_account(session, first, WEB_NOW + timedelta(days=8))
    with db.transaction(engine) as session:
        staff.activate(session, second, "a good long password", WEB_NOW + timedelta(days=9))
    # Once active, adding them elsewhere is a plain addition (no link).
    again = _invite(engine, team, "evaluator")
    assert again.activation_token is None


def test_an_invited_account_of_another_kind_is_still_refused(engine, team):
    _invite(engine, team, "evaluator")
    with pytest.raises(staff.NoSuchAccount), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, NEW, "co_facilitator", team.owner, WEB_NOW)


def test_an_account_an_admin_deactivated_after_activation_is_not_reinvited(engine, team):
    token = _invite(engine, team).activation_token
    with db.transaction(engine) as session:
        user = staff.activate(session, token, "a good long password", WEB_NOW)
        accounts.update_user(session, user, active=False)
    with pytest.raises(staff.NoSuchAccount), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, NEW, "evaluator", team.owner, WEB_NOW)


def test_only_owners_and_admins_invite(engine, team):
    with pytest.raises(staff.NotAllowed), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, NEW, "evaluator", team.co_facilitator, WEB_NOW)
    assert _account(engine) is None


def test_an_invalid_email_is_refused_and_nothing_is_made(engine, team):
    with pytest.raises(accounts.AccountError), db.transaction(engine) as session:
        staff.add_staff(session, team.cohort_id, "not an email", "evaluator", team.owner,
                        WEB_NOW)
    with db.transaction(engine) as session:
        assert session.scalars(select(StaffActivation)).all() == []


def test_the_owner_still_cannot_remove_themselves(engine, team):
    """Inviting changes nothing about owners: the last owner stays, and so does an owner who
    tries to remove themselves while another owner exists."""
    _invite(engine, team, "co_facilitator")
    with pytest.raises(staff.LastOwner), db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.owner.id, team.owner, WEB_NOW)
    with db.transaction(engine) as session:
        accounts.add_cohort_staff(session, team.cohort_id, team.colleague, CohortRole.OWNER)
    with pytest.raises(staff.OwnerRemovesSelf), db.transaction(engine) as session:
        staff.remove_staff(session, team.cohort_id, team.owner.id, team.owner, WEB_NOW)
    assert _members(engine, team.cohort_id)["owner@cohort.example"] == CohortRole.OWNER
