"""Staff invite staff in the browser's requests: the owner adds an email without an account,
the colleague gets an email with a link, chooses a password and is in (and only on that
cohort); the link works once, expires, and guessing at links is throttled."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from cohort import db
from cohort.models import StaffActivation, User
from tests.fixtures.web import WEB_NOW, staff_client

NEW = "kollega@region.example"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)[1]


def _sent(web_app) -> list[email.message.EmailMessage]:
    folder = Path(web_app.config["MAIL_URL"].removeprefix("file://"))
    return [email.message_from_bytes(p.read_bytes(), policy=default)
            for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def _invite(web_app, staff, cohort_id, role="evaluator", address=NEW):
    owner = staff_client(web_app, staff.owner, language="en")
    page = owner.get(f"/cohorts/{cohort_id}/staff").get_data(as_text=True)
    response = owner.post(f"/cohorts/{cohort_id}/staff", data={
        "csrf_token": _csrf(page), "email": address, "role": role}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:5000(/account/activate/[A-Za-z0-9_-]+)", text)[1]


def test_an_owner_invites_a_colleague_who_activates_their_account(web_app, staff, cohort_id):
    page = _invite(web_app, staff, cohort_id, "co_facilitator")
    assert f"{NEW} has no account yet" in page
    (message,) = _sent(web_app)
    assert message["To"] == NEW
    assert "Hold 1" in message["Subject"]
    html = message.get_body(("html",)).get_content()
    path = _link(message)
    assert path in html and "Olga Owner" in message.get_body(("plain",)).get_content()
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        user = session.scalars(select(User).where(User.email == NEW)).one()
        stored = session.scalars(select(StaffActivation)).one()
    assert not user.active and path.rsplit("/", 1)[1] not in stored.token_hash
    owner = staff_client(web_app, staff.owner, language="en")
    staff_page = owner.get(f"/cohorts/{cohort_id}/staff").get_data(as_text=True)
    assert "invited, not yet activated" in staff_page

    colleague = web_app.test_client()
    colleague.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = colleague.get(path)
    assert form.status_code == 200 and NEW in form.get_data(as_text=True)
    token = _csrf(form.get_data(as_text=True))
    # The account page's rules: at least 10 characters, typed twice alike.
    short = colleague.post(path, data={"csrf_token": token, "new": "short", "repeat": "short"})
    assert short.status_code == 400
    differ = colleague.post(path, data={"csrf_token": token, "new": "a good long password",
                                        "repeat": "another long password"})
    assert differ.status_code == 400 and "The passwords differ." in differ.get_data(as_text=True)
    # Without the form's token nothing happens.
    assert colleague.post(path, data={"new": "a good long password",
                                      "repeat": "a good long password"}).status_code == 400
    done = colleague.post(path, data={"csrf_token": token, "new": "a good long password",
                                      "repeat": "a good long password"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")
    # Signed in, on the cohort they were added to, but they start no cohort of their own.
    assert colleague.get(f"/cohorts/{cohort_id}").status_code == 200
    dashboard = colleague.get("/dashboard").get_data(as_text=True)
    assert "/cohorts/new" not in dashboard
    assert colleague.get("/cohorts/new").status_code == 403
    # The link worked once.
    used = web_app.test_client().get(path, headers={"Accept-Language": "en"})
    assert used.status_code == 404
    assert "This activation link does not work" in used.get_data(as_text=True)
    owner = staff_client(web_app, staff.owner, language="en")
    staff_page = owner.get(f"/cohorts/{cohort_id}/staff").get_data(as_text=True)
    assert "invited, not yet activated" not in staff_page
    # And the password signs them in from now on.
    fresh = web_app.test_client()
    login = fresh.get("/login").get_data(as_text=True)
    assert fresh.post("/login", data={"csrf_token": _csrf(login), "email": NEW,
                                      "password": "a good long password"}).status_code == 302


def test_an_expired_link_explains_itself(web_app, staff, cohort_id):
    _invite(web_app, staff, cohort_id)
    path = _link(_sent(web_app)[0])
    web_app.config["COHORT_NOW"] = WEB_NOW + timedelta(days=7)
    response = web_app.test_client().get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "it has expired (a link works for 7 days)" in response.get_data(as_text=True)


def test_guessing_at_activation_links_is_throttled(web_app, staff, cohort_id):
    _invite(web_app, staff, cohort_id)
    path = _link(_sent(web_app)[0])
    guesser = web_app.test_client()
    limit = web_app.config["LOGIN_FAILURES_PER_MINUTE"]
    assert [guesser.get(f"/account/activate/guess-{n}").status_code
            for n in range(limit + 1)] == [404] * limit + [429]
    refused = guesser.get(path)  # even the right link waits, from this address
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_an_admin_may_let_an_invited_colleague_start_cohorts(web_app, staff, cohort_id):
    _invite(web_app, staff, cohort_id, "co_facilitator")
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        user = session.scalars(select(User).where(User.email == NEW)).one()
    admin = staff_client(web_app, staff.admin)
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'name="may_create_cohorts"' in page and "checked" not in page.split(
        'name="may_create_cohorts"')[1].split(">")[0]
    assert admin.post(f"/admin/users/{user.id}", data={
        "csrf_token": _csrf(page), "name": "", "role": "facilitator", "active": "y",
        "may_create_cohorts": "y"}).status_code == 302
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        assert session.get(User, user.id).may_create_cohorts


@pytest.mark.parametrize("role", ["evaluator", "co_facilitator"])
def test_when_the_mail_server_refuses_the_owner_is_told(web_app, staff, cohort_id, role,
                                                        tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the mail folder should be")
    web_app.config["MAIL_URL"] = f"file://{blocker}"
    page = _invite(web_app, staff, cohort_id, role)
    assert "the email with their activation link could not be sent" in page
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        assert session.scalars(select(User).where(User.email == NEW)).one().active is False
