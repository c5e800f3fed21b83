"""`cohort create-user`, `set-password`, `users` and the demo's facilitator login."""

from __future__ import annotations

import re

import pytest

from cohort import db
from cohort.services import accounts


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url


def invoke(runner, *args, stdin=None):
    return runner.invoke(args=["cohort", *args], input=stdin)


def test_create_user_reads_the_password_from_stdin(runner, app):
    result = invoke(runner, "create-user", "Anne@Example.org", "--role", "facilitator",
                    "--name", "Anne", stdin="a long password\n")
    assert result.exit_code == 0, result.output
    assert "Created facilitator anne@example.org." in result.output
    with db.transaction(app.extensions["cohort.engine"]) as session:
        assert accounts.authenticate(session, "anne@example.org", "a long password") is not None
    listed = invoke(runner, "users")
    assert "facilitator\tanne@example.org" in listed.output


@pytest.mark.parametrize("args, stdin, message", [
    (["nobody", "--role", "admin"], "a long password\n", "not a valid email address"),
    (["a@b.example", "--role", "admin"], "short\n", "at least 10 characters"),
    (["a@b.example", "--role", "boss"], "a long password\n", "Invalid value for '--role'"),
])
def test_create_user_errors(runner, args, stdin, message):
    result = invoke(runner, "create-user", *args, stdin=stdin)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_duplicate_user_and_set_password(runner, app):
    invoke(runner, "create-user", "a@b.example", "--role", "admin", stdin="a long password\n")
    again = invoke(runner, "create-user", "a@b.example", "--role", "admin",
                   stdin="a long password\n")
    assert again.exit_code == 1 and "already an account" in again.output
    changed = invoke(runner, "set-password", "a@b.example", stdin="another password\n")
    assert changed.exit_code == 0
    with db.transaction(app.extensions["cohort.engine"]) as session:
        assert accounts.authenticate(session, "a@b.example", "another password") is not None
    missing = invoke(runner, "set-password", "x@b.example", stdin="another password\n")
    assert missing.exit_code == 1 and "no account for x@b.example" in missing.output


def test_demo_prints_a_facilitator_login_that_works(runner, app):
    first = invoke(runner, "demo")
    assert first.exit_code == 0, first.output
    match = re.search(r"Facilitator login: (\S+)  password: (\S+)", first.output)
    assert match, first.output
    email, password = match.groups()
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/login", data={"email": email, "password": password})
    assert response.headers["Location"] == "/dashboard"
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Kompetencer til Digitalt Lederskab — demohold" in dashboard
    assert client.get("/cohorts/1").status_code == 200  # the demo cohort is theirs
    second = invoke(runner, "demo")
    assert "password:" not in second.output and f"Facilitator login: {email}" in second.output
