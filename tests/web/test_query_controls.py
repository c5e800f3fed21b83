"""A control character in the query string of a view whose query values can end up in a
header (a redirect's Location), a spreadsheet cell or the outbox's filters is refused with a
400 that says so (`web.common.plain_query`), before the view runs; the same request without
it is served as before."""

from __future__ import annotations

import pytest

from cohort import db, services
from tests.fixtures.web import staff_client

CONTROLS = {"nul": "a\x00b", "crlf": "a\r\nSet-Cookie: x=y", "escape": "a\x1b[31mb"}
SAID = "The address contains a control character"


@pytest.fixture
def quote_id(engine_of_app, cohort_id) -> int:
    with db.transaction(engine_of_app) as session:
        return services.add_quote(session, cohort_id, "Det gav mening.",
                                  themes=["Ledelse"]).id


def guarded_routes(cohort_id: int, quote_id: int) -> list[tuple[str, str, str, int]]:
    """method, path, the query name the view reads, and its status without junk."""
    evaluation = f"/cohorts/{cohort_id}/evaluation"
    return [
        ("GET", "/login", "next", 302),  # signed in: straight on to ?next=
        ("GET", f"{evaluation}/quotes", "theme", 200),
        ("POST", f"{evaluation}/quotes/{quote_id}/themes", "theme", 302),
        ("GET", f"{evaluation}/responses.csv", "survey", 200),
        ("GET", f"{evaluation}/responses.xlsx", "survey", 200),
        ("GET", f"/cohorts/{cohort_id}/progress.csv", "task", 200),
        ("GET", f"/cohorts/{cohort_id}/progress.xlsx", "group", 200),
        ("GET", f"/cohorts/{cohort_id}/outbox", "person", 200),
        ("GET", f"/cohorts/{cohort_id}/outbox", "kind", 200),
    ]


def test_every_guarded_route_refuses_control_characters_with_a_clear_400(
        web_app, staff, cohort_id, quote_id):
    client = staff_client(web_app, staff.admin, language="en", csrf=False)
    plain = {"next": "/dashboard", "theme": "Ledelse", "survey": "final", "task": "x",
             "group": "1", "person": "anne", "kind": "welcome"}
    for method, path, name, status in guarded_routes(cohort_id, quote_id):
        served = client.open(path, method=method, query_string={name: plain[name]})
        assert served.status_code == status, (method, path, name, served.status_code)
        for payload, value in CONTROLS.items():
            for query in ({name: value}, {value: "1"}, {name: plain[name], "other": value}):
                refused = client.open(path, method=method, query_string=query)
                assert refused.status_code == 400, (method, path, query)
                assert SAID in refused.get_data(as_text=True), (method, path, payload)
                assert "Location" not in refused.headers and "x=y" not in str(refused.headers)


def test_the_refusal_is_said_in_danish_and_norwegian(web_app, staff):
    for language, said in (("da", "Adressen indeholder et kontroltegn"),
                           ("nb", "Adressen inneholder et kontrolltegn")):
        client = staff_client(web_app, staff.owner, language=language)
        refused = client.get("/login", query_string={"next": "/dashboard\r\n"})
        assert refused.status_code == 400 and said in refused.get_data(as_text=True)


def test_an_anonymous_login_link_with_a_control_character_is_refused_too(web_app):
    client = web_app.test_client()
    assert client.get("/login", query_string={"next": "/dashboard"}).status_code == 200
    assert client.get("/login", query_string={"next": "/\x00/evil.example"}).status_code == 400
