"""Staff accounts and cohort access (each test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest

from cohort import db
from cohort.models import CohortRole
from cohort.services import accounts
from tests.fixtures.web import WEB_NOW


def test_create_and_authenticate(engine):
    with db.transaction(engine) as session:
        user = accounts.create_user(session, " Anne@Example.ORG ", "facilitator",
                                    "a long password")
        assert user.email == "anne@example.org"
        assert user.password_hash.startswith("scrypt:")  # never the password itself
    with db.transaction(engine) as session:
        assert accounts.authenticate(session, "anne@example.org", "a long password").id == user.id
        assert accounts.authenticate(session, "ANNE@example.org", "a long password") is not None
        assert accounts.authenticate(session, "anne@example.org", "wrong password") is None
        assert accounts.authenticate(session, "nobody@example.org", "a long password") is None


@pytest.mark.parametrize("email, role, password, message", [
    ("not-an-email", "admin", "long enough pw", "not a valid email"),
    ("a@b.example", "boss", "long enough pw", "'boss' is not a role"),
    ("a@b.example", "participant", "long enough pw", "is not a role"),
    ("a@b.example", "admin", "short", "at least 10 characters"),
])
def test_bad_accounts_are_refused(engine, email, role, password, message):
    with pytest.raises(accounts.AccountError, match=message), db.transaction(engine) as session:
        accounts.create_user(session, email, role, password)


def test_duplicate_account_is_refused(engine):
    with db.transaction(engine) as session:
        accounts.create_user(session, "a@b.example", "admin", "long enough pw")
    with pytest.raises(accounts.AccountError, match="already"), \
            db.transaction(engine) as session:
        accounts.create_user(session, "A@B.example", "evaluator", "long enough pw")


def test_inactive_user_cannot_log_in_and_new_password_ends_sessions(engine):
    with db.transaction(engine) as session:
        user = accounts.create_user(session, "a@b.example", "facilitator", "long enough pw")
        version = user.session_version
        accounts.set_password(session, user, "another long pw")
        assert user.session_version == version + 1
        accounts.update_user(session, user, active=False)
    with db.transaction(engine) as session:
        assert accounts.authenticate(session, "a@b.example", "another long pw") is None


def test_visible_cohorts_and_demo_facilitator(engine, make_cohort):
    first = make_cohort(engine, now=WEB_NOW)
    second = make_cohort(engine, now=WEB_NOW)
    with db.transaction(engine) as session:
        user, password = accounts.ensure_demo_facilitator(session)
        assert password and len(password) >= 12
        admin = accounts.create_user(session, "root@b.example", "admin", "long enough pw")
        other = accounts.create_user(session, "o@b.example", "facilitator", "long enough pw")
        accounts.add_cohort_staff(session, second.id, other, CohortRole.OWNER)
    with db.transaction(engine) as session:
        # Both cohorts were unowned, so the demo facilitator got both.
        assert [c.id for c in accounts.visible_cohorts(session, user)] == [first.id, second.id]
        assert [c.id for c in accounts.visible_cohorts(session, other)] == [second.id]
        assert len(accounts.visible_cohorts(session, admin)) == 2
        again, no_password = accounts.ensure_demo_facilitator(session)
        assert again.id == user.id and no_password is None
