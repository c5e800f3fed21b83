"""Security basics: headers, CSRF on every POST, no inline script, friendly error pages."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from cohort.app import create_app
from cohort.web.access import public
from tests.fixtures.paths import PROGRAMMES
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import participant_client, sign_in, staff_client


@pytest.fixture
def database_url(sqlite_only_url):
    return sqlite_only_url


def test_security_headers(web_app):
    response = web_app.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers
    https = web_app.test_client().get("/login", base_url="https://cohort.example")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script_or_style(web_app, staff, cohort_id, first_participant):
    client = staff_client(web_app, staff.admin)
    pages = ["/login", "/dashboard", "/programmes/", "/programmes/digital-lederskab",
             "/cohorts/new", f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/plan",
             f"/cohorts/{cohort_id}/participants/", f"/cohorts/{cohort_id}/staff",
             f"/cohorts/{cohort_id}/activity", f"/cohorts/{cohort_id}/participants/"
             f"{first_participant.id}/edit", f"/cohorts/{cohort_id}/meetings/webinar-2/cancel",
             f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule", "/admin/users",
             "/account/", "/nowhere", "/evaluation", f"/cohorts/{cohort_id}/evaluation",
             f"/cohorts/{cohort_id}/evaluation/surveys/final?by=organisation",
             f"/cohorts/{cohort_id}/evaluation/templates/meeting-evaluation",
             f"/cohorts/{cohort_id}/evaluation/notes",
             f"/cohorts/{cohort_id}/evaluation/notes/new/final-interview",
             f"/cohorts/{cohort_id}/evaluation/quotes", f"/cohorts/{cohort_id}/attendance",
             f"/cohorts/{cohort_id}/attendance/kickoff",
             f"/cohorts/{cohort_id}/attendance/workshop-1/code",
             f"/cohorts/{cohort_id}/attendance/webinar-1/import",
             f"/cohorts/{cohort_id}/materials"]
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        assert "<script" not in html, page
        assert not re.search(r"\sstyle=", html), page
        assert not re.search(r"\son[a-z]+=", html), page  # no inline event handlers
    participant = participant_client(web_app, first_participant)
    for page in ["/me", "/me/surveys/1"]:
        response = participant.get(page)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, page
        assert "<script" not in html and not re.search(r"\sstyle=", html), page
        assert not re.search(r"\son[a-z]+=", html), page


def test_every_post_route_needs_a_csrf_token(web_app, staff, cohort_id, first_participant):
    values = {"cohort_id": cohort_id, "participant_id": first_participant.id,
              "meeting_key": "webinar-2", "user_id": staff.owner.id, "token": "made-up",
              "delivery_id": 1, "task_id": 1, "prompt_id": 1, "guide_key": "final-interview",
              "note_id": 1, "quote_id": 1, "survey_id": 1, "meeting_id": 1, "round_id": 1,
              "material_id": 1}
    client = staff_client(web_app, staff.admin)
    posts = [r for r in web_app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 10
    for rule in posts:
        with web_app.test_request_context():
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        response = client.post(url, data={"confirm": "y", "confirm_cancel": "y"})
        assert response.status_code == 400, url
        assert "Formularen er udløbet" in response.get_data(as_text=True), url
    # ... and with the token the same form goes through.
    page = client.get(f"/cohorts/{cohort_id}/meetings/webinar-2/cancel").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = client.post(f"/cohorts/{cohort_id}/meetings/webinar-2/cancel",
                           data={"csrf_token": token, "confirm_cancel": "y"})
    assert response.status_code == 302


@pytest.mark.parametrize("language, texts", [
    ("da", ("Siden findes ikke", "Du har ikke adgang til siden", "Noget gik galt")),
    ("en", ("Page not found", "You do not have access to this page", "Something went wrong")),
    ("nb", ("Siden finnes ikke", "Du har ikke tilgang til denne siden", "Noe gikk galt")),
])
def test_friendly_error_pages_in_the_users_language(tmp_path, monkeypatch, language, texts,
                                                    password_hash):
    monkeypatch.setenv("COHORT_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      "SECRET_KEY": "x", "PROGRAMMES_DIR": str(PROGRAMMES)})

    @public
    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    from cohort import db
    from cohort.models import User

    db.create_schema(app.extensions["cohort.engine"])
    with db.transaction(app.extensions["cohort.engine"]) as session:
        user = User(email="e@x.example", role="evaluator", password_hash=password_hash)
        session.add(user)
    client = app.test_client()
    headers = {"Accept-Language": language}
    not_found = client.get("/cohorts/12345/nothing", headers=headers)
    assert not_found.status_code == 404 and texts[0] in not_found.get_data(as_text=True)
    sign_in(client, user)
    forbidden = client.get("/admin/users", headers=headers)
    assert forbidden.status_code == 403 and texts[1] in forbidden.get_data(as_text=True)
    failed = client.get("/boom", headers=headers)
    body = failed.get_data(as_text=True)
    assert failed.status_code == 500 and texts[2] in body
    assert "secret internals" not in body and "Traceback" not in body
    assert f'<html lang="{language}">' in body
    app.extensions["cohort.engine"].dispose()


def test_a_participants_error_pages_are_in_the_language_of_their_pages(web_app, cohort_id,
                                                                        first_participant):
    """A signed-in participant's 404 and 400 pages are in their pages' language (their own,
    here Norwegian), not the browser's (here English): the participant pages are rendered in
    `page_language`, and an error page between two of them read as another site's."""
    client = participant_client(web_app, first_participant, language="nb")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    engine = web_app.extensions["cohort.engine"]
    with recorded_statements(engine) as read_by_own_language:
        missing = client.get("/me/buddy/999999")  # a participant page's own 404
    body = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert '<html lang="nb">' in body and "Siden finnes ikke" in body
    unknown = client.get("/me/no-such-page")  # no route: no access check ran before it
    assert unknown.status_code == 404 and '<html lang="nb">' in unknown.get_data(as_text=True)
    refused = client.post("/me/logout")  # no CSRF token
    assert refused.status_code == 400 and '<html lang="nb">' in refused.get_data(as_text=True)
    # A language chosen with the header's switcher in this session wins, as on their pages,
    # and is read from the session: the 404 of no route then reads nothing at all.
    with client.session_transaction() as session:
        session["locale"] = "da"
    with recorded_statements(engine) as read_by_no_route:
        chosen = client.get("/me/no-such-page")
    assert chosen.status_code == 404 and '<html lang="da">' in chosen.get_data(as_text=True)
    assert read_by_no_route == []
    # The participant page's 404 in its own language reads no more than in a chosen one: the
    # access check had read the participant's record already.
    with recorded_statements(engine) as read_by_chosen_language:
        client.get("/me/buddy/999999")
    assert len(read_by_own_language) == len(read_by_chosen_language)
