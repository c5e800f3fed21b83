"""Signing in and out: the login form, throttling, cookies, sessions and the language."""

from __future__ import annotations

import re

import pytest

from cohort import db
from cohort.core.text import has_control_character
from cohort.services import accounts
from tests.fixtures.web import sign_in

PASSWORD = "a good long password"


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url


@pytest.fixture
def facilitator(web_app):
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        return accounts.create_user(session, "fac@cohort.example", "facilitator", PASSWORD)


@pytest.fixture
def client(web_app):
    web_app.config["WTF_CSRF_ENABLED"] = False
    return web_app.test_client()


def _login(client, email, password, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def _flash(response) -> list[str]:
    return re.findall(r'<p class="flash error">(.*?)</p>', response.get_data(as_text=True))


def test_login_logout(client, facilitator):
    assert client.get("/").headers["Location"] == "/login"
    response = _login(client, "FAC@cohort.example", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert client.get("/").headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/dashboard").status_code == 302


def test_same_message_whether_or_not_the_account_exists(client, facilitator):
    wrong_password = _login(client, "fac@cohort.example", "not the password")
    no_account = _login(client, "nobody@cohort.example", "not the password")
    assert wrong_password.status_code == no_account.status_code == 200
    assert _flash(wrong_password) == _flash(no_account) == [
        "Mailadressen eller adgangskoden er forkert."]


def test_sixth_failure_in_a_minute_gets_429(client, web_app, facilitator):
    throttle = web_app.extensions["cohort.login_throttle"]
    clock = [1000.0]
    throttle.clock = lambda: clock[0]
    for _ in range(5):
        assert _login(client, "fac@cohort.example", "wrong password").status_code == 200
    blocked = _login(client, "fac@cohort.example", "wrong password")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    # The account is under attack: even the right password waits, from any address.
    assert _login(client, "fac@cohort.example", PASSWORD).status_code == 429
    other = _login(client, "fac@cohort.example", PASSWORD,
                   environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 429
    clock[0] += 61
    assert _login(client, "fac@cohort.example", PASSWORD).status_code == 302


def test_a_throttled_address_lets_an_untouched_account_in(client, web_app, facilitator):
    """A guesser behind the same NAT does not lock out a colleague with the right password."""
    for number in range(6):
        _login(client, f"guess{number}@cohort.example", "wrong password")
    assert _login(client, "guess0@cohort.example", "wrong password").status_code == 429
    assert _login(client, "fac@cohort.example", PASSWORD).status_code == 302


def test_session_cookie_flags(web_app, facilitator):
    web_app.config["WTF_CSRF_ENABLED"] = False
    plain = web_app.test_client()
    cookie = _login(plain, "fac@cohort.example", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = web_app.test_client()
    cookie = _login(https, "fac@cohort.example", PASSWORD,
                    base_url="https://cohort.example").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_only_goes_to_this_site(client, facilitator):
    response = client.post("/login", data={"email": "fac@cohort.example", "password": PASSWORD,
                                           "next": "//evil.example/x"})
    assert response.headers["Location"] == "/dashboard"
    client.post("/logout")
    response = client.post("/login", data={"email": "fac@cohort.example", "password": PASSWORD,
                                           "next": "/programmes/"})
    assert response.headers["Location"] == "/programmes/"


def test_new_password_or_deactivation_ends_other_sessions(client, web_app, facilitator):
    sign_in(client, facilitator)
    assert client.get("/dashboard").status_code == 200
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        user = accounts.get_user(session, facilitator.id)
        accounts.set_password(session, user, "a brand new password")
    assert client.get("/dashboard").status_code == 302
    assert _login(client, "fac@cohort.example", "a brand new password").status_code == 302
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        accounts.update_user(session, accounts.get_user(session, facilitator.id), active=False)
    assert client.get("/dashboard").status_code == 302
    assert _login(client, "fac@cohort.example", "a brand new password").status_code == 200


def test_language_from_setting_else_browser_else_danish(client, web_app, facilitator):
    def heading(response):
        html = response.get_data(as_text=True)
        return re.search(r'<html lang="(\w+)">', html)[1], re.search(r"<h1>(.*?)</h1>", html)[1]

    assert heading(client.get("/login")) == ("da", "Log ind")
    assert heading(client.get("/login", headers={"Accept-Language": "fr, en;q=0.5"})) == (
        "en", "Log in")
    assert heading(client.get("/login", headers={"Accept-Language": "no"})) == (
        "nb", "Logg inn")
    client.post("/language", data={"language": "nb", "next": "/login"})
    assert heading(client.get("/login", headers={"Accept-Language": "en"})) == (
        "nb", "Logg inn")
    _login(client, "fac@cohort.example", PASSWORD)
    client.post("/account/", data={"lang-locale": "en", "lang-save_language": "1"})
    assert heading(client.get("/dashboard", headers={"Accept-Language": "da"})) == (
        "en", "My cohorts")


def test_change_own_password(client, facilitator):
    _login(client, "fac@cohort.example", PASSWORD)
    wrong = client.post("/account/", data={"pw-current": "nope", "pw-new": "x" * 12,
                                           "pw-repeat": "x" * 12, "pw-save_password": "1"})
    assert wrong.status_code == 400 and "Det er ikke din nuværende adgangskode." in \
        wrong.get_data(as_text=True)
    changed = client.post("/account/", data={"pw-current": PASSWORD, "pw-new": "x" * 12,
                                             "pw-repeat": "x" * 12, "pw-save_password": "1"})
    assert changed.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session continues
    client.post("/logout")
    assert _login(client, "fac@cohort.example", "x" * 12).status_code == 302


# As they arrive in the query string (Flask decodes %09 to a tab, %0A to a newline, ...).
HOSTILE_NEXT = ["//evil.example/x", "/\\evil.example/x", "/%09/evil.example/x",
                "%09//evil.example/x", "/%0D%0A/evil.example/x", "https://evil.example/x",
                "javascript:alert(1)", "/x%0D%0ASet-Cookie:%20a=b", "%00//evil.example",
                "/%E2%80%A8/evil.example"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_and_language_never_send_people_to_another_site(client, facilitator, target):
    from urllib.parse import unquote, urlsplit

    def location(response) -> str:
        assert response.status_code in (302, 303), response.status_code
        where = response.headers["Location"]
        # The browser's view: tabs and line breaks dropped, backslashes as slashes.
        seen = where.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/")
        assert not urlsplit(seen).netloc and not urlsplit(seen).scheme, where
        assert seen.startswith("/") and not seen.startswith("//"), where
        return where

    language = client.post("/language", data={"language": "en", "next": unquote(target)})
    location(language)
    response = client.post("/login", data={"email": "fac@cohort.example",
                                           "password": PASSWORD, "next": unquote(target)})
    assert location(response) in ("/dashboard", "/x", "/xSet-Cookie:%20a=b")
    signed_in = client.get(f"/login?next={target}")  # signed in: straight on
    if has_control_character(unquote(target)):  # no link of the site has one (plain_query)
        assert signed_in.status_code == 400 and "Location" not in signed_in.headers
    else:
        location(signed_in)
