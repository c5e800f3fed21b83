"""Sessions end on the server: a cookie copied before a logout opens nothing afterwards (staff
and participants); password checks (login and the current-password check in /account/) are
throttled atomically, per account and per address, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cohort import db, services
from tests.fixtures.web import PASSWORD, WEB_NOW


def _copy_cookie(source, target) -> None:
    """What someone who copied the session cookie has: the same cookie in another client."""
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value)


def _login(client, email, password, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_staff_logout_ends_a_copied_cookie(web_app, staff):
    web_app.config["WTF_CSRF_ENABLED"] = False
    browser, thief = web_app.test_client(), web_app.test_client()
    assert _login(browser, "owner@cohort.example", PASSWORD).status_code == 302
    _copy_cookie(browser, thief)
    assert thief.get("/dashboard").status_code == 200  # the copy works while signed in
    assert browser.post("/logout").status_code == 302
    replay = thief.get("/dashboard")
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/login")
    # Signing in again works, and gives a session the old copy does not share.
    assert _login(browser, "owner@cohort.example", PASSWORD).status_code == 302
    assert browser.get("/dashboard").status_code == 200
    assert thief.get("/dashboard").status_code == 302


def test_participant_logout_ends_a_copied_cookie(web_app, first_participant):
    web_app.config["WTF_CSRF_ENABLED"] = False
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        token = services.personal_token(session, first_participant.id,
                                        web_app.config["SECRET_KEY"], WEB_NOW)
    browser, thief = web_app.test_client(), web_app.test_client()
    assert browser.post(f"/p/{token}", data={}).status_code == 302
    assert browser.get("/me").status_code == 200
    _copy_cookie(browser, thief)
    assert thief.get("/me").status_code == 200
    assert browser.post("/me/logout", data={}).status_code == 200
    assert thief.get("/me").status_code == 403
    assert browser.get("/me").status_code == 403
    # The personal link still works: opening it again starts a new session.
    assert browser.post(f"/p/{token}", data={}).status_code == 302
    assert browser.get("/me").status_code == 200
    assert thief.get("/me").status_code == 403
    # The header's general "log out" ends a participant's session on the server too.
    _copy_cookie(browser, thief)
    assert thief.get("/me").status_code == 200
    browser.post("/logout")
    assert thief.get("/me").status_code == 403


def test_concurrent_wrong_passwords_check_only_the_limit(web_app, staff):
    """Forty simultaneous guesses at one account (real threads, the real database of this
    run, SQLite file or PostgreSQL): five are checked, the rest get 429."""
    web_app.config["WTF_CSRF_ENABLED"] = False
    start = threading.Barrier(40)

    def guess(number: int) -> int:
        client = web_app.test_client()
        start.wait()
        return _login(client, "owner@cohort.example", f"guess {number}",
                      address=f"10.1.{number}.1").status_code

    with ThreadPoolExecutor(40) as pool:
        statuses = sorted(pool.map(guess, range(40)))
    assert statuses == [200] * 5 + [429] * 35


def test_current_password_check_is_throttled(web_app, staff):
    web_app.config["WTF_CSRF_ENABLED"] = False
    client = web_app.test_client()
    assert _login(client, "owner@cohort.example", PASSWORD).status_code == 302

    def change(current: str):
        return client.post("/account/", data={
            "pw-current": current, "pw-new": "x" * 12, "pw-repeat": "x" * 12,
            "pw-save_password": "1"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})

    for number in range(5):
        assert change(f"guess {number}").status_code == 400
    refused = change(PASSWORD)  # even the right one waits now
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "For mange mislykkede forsøg" in refused.get_data(as_text=True)
    # The same count as the login form's: the account is under attack there too.
    assert _login(web_app.test_client(), "owner@cohort.example", PASSWORD,
                  address="10.9.9.9").status_code == 429
