"""Every page's header kept per kind of viewer (web/page_cache.site_header): a kept header is
the header the template renders, for every role, language and path, with this session's CSRF
token and this page's way back in the language form; what the viewer may do shows at once."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from markupsafe import escape

from cohort import db
from cohort.models import User
from tests.fixtures.web import sign_in, staff_client

HEADER = re.compile(r'<header class="site">.*?</header>', re.S)
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')
ODD_PATH = '/dashboard?q=a&b="<x>"&c=\'1\''


def header_of(client, path: str = "/dashboard", **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    return HEADER.search(response.get_data(as_text=True)).group(0)


def rendered_fresh(web_app, client, path: str, **kwargs) -> str:
    cache = web_app.extensions["cohort.page_cache"]
    entries, cache.entries = cache.entries, 0
    try:
        return header_of(client, path, **kwargs)
    finally:
        cache.entries = entries


@pytest.mark.parametrize("who", ["admin", "owner", "evaluator", None])
@pytest.mark.parametrize("language", ["da", "nb", "en"])
def test_a_kept_header_is_the_rendered_header(web_app, staff, who, language):
    client = web_app.test_client()
    if who is not None:
        sign_in(client, getattr(staff, who))
    path, other = (ODD_PATH, "/dashboard") if who else ("/login?next=%2Fdashboard", "/login")
    headers = {"Accept-Language": language}
    fresh = rendered_fresh(web_app, client, path, headers=headers)
    header_of(client, other, headers=headers)  # kept from another page
    kept = header_of(client, path, headers=headers)
    # A token is signed with the second it is made: the same token of the session, perhaps
    # signed a second apart. Everything else is the same text.
    assert masked(kept) == masked(fresh)
    assert {session_token(web_app, client, t) for t in TOKEN.findall(kept + fresh)} == {
        session_token(web_app, client)}
    assert f'lang="{language}" selected' in kept


def masked(header: str) -> str:
    return TOKEN.sub(lambda found: found.group(0).replace(found.group(1), "…"), header)


def session_token(web_app, client, signed: str | None = None) -> str:
    """The session's raw CSRF token, or what the signed token `signed` carries."""
    if signed is not None:
        return URLSafeTimedSerializer(web_app.secret_key, salt="wtf-csrf-token").loads(signed)
    with client.session_transaction() as session:
        return session["csrf_token"]


def test_each_page_returns_to_itself_and_each_session_has_its_own_token(web_app, staff):
    owner, admin = web_app.test_client(), web_app.test_client()
    sign_in(owner, staff.owner)
    sign_in(admin, staff.admin)
    first = header_of(owner, "/dashboard")
    odd = header_of(owner, ODD_PATH)
    assert 'name="next" type="hidden" value="/dashboard"' in first
    assert f'name="next" type="hidden" value="{escape(ODD_PATH)}"' in odd
    assert '"<x>"' not in odd
    # Every token is the session's one token (signed with the second it was made in).
    owner_tokens = {session_token(web_app, owner, t) for t in TOKEN.findall(first + odd)}
    admin_tokens = {session_token(web_app, admin, t) for t in TOKEN.findall(header_of(admin))}
    assert owner_tokens == {session_token(web_app, owner)}
    assert admin_tokens == {session_token(web_app, admin)}
    assert owner_tokens != admin_tokens


def test_the_language_form_of_a_kept_header_works(web_app, staff):
    web_app.config["WTF_CSRF_ENABLED"] = True
    client = staff_client(web_app, staff.owner)
    header_of(client)
    token = TOKEN.findall(header_of(client, "/dashboard?page=1"))[0]
    response = client.post("/language", data={"csrf_token": token, "language": "en",
                                              "next": "/dashboard?page=1"})
    assert response.status_code == 302 and response.location.endswith("/dashboard?page=1")
    assert 'value="en" lang="en" selected' in header_of(client)


def test_what_the_viewer_may_do_shows_on_the_next_page(web_app, staff, engine_of_app):
    client = staff_client(web_app, staff.owner)
    assert 'href="/cohorts/new"' in header_of(client)
    with db.transaction(engine_of_app) as session:
        session.get(User, staff.owner.id).may_create_cohorts = False
    assert 'href="/cohorts/new"' not in header_of(client)
    assert 'href="/programmes/"' in header_of(client)
    with db.transaction(engine_of_app) as session:
        session.get(User, staff.owner.id).role = "evaluator"
    header = header_of(client)
    assert 'href="/programmes/"' not in header and 'href="/evaluation' in header
