"""What the junk walker found: a NUL in a form field reached PostgreSQL (which stores no NUL:
a 500), and dates at the calendar's ends reached the planning (OverflowError: a 500).
Both are form errors now; each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import html
from functools import partial

from tests.fixtures.web import staff_client

_client = partial(staff_client, csrf=False)


def test_a_nul_in_a_field_is_a_form_error_not_a_database_error(web_app, staff, cohort_id):
    client = _client(web_app, staff.owner)
    nul = "anne\x00@vejle.example"
    groups = f"/cohorts/{cohort_id}/groups"
    for path, data in [
        (f"{groups}/rules/drop", {"first": nul, "second": "bo@kolding.example", "scope": ""}),
        (f"{groups}/rules", {"kind": "apart", "first": nul, "second": "bo@kolding.example",
                             "scope": "\x00"}),
        (f"{groups}/move", {"grouping": "buddies\x00", "rotation": "1", "person": nul,
                            "to_group": "1"}),
        (f"/cohorts/{cohort_id}/staff", {"email": nul, "role": "evaluator"}),
    ]:
        response = client.post(path, data=data)
        assert response.status_code < 500, path
    anonymous = web_app.test_client()
    assert anonymous.post("/login", data={"email": nul, "password": "x"}).status_code == 400


def test_dates_beyond_a_sane_window_are_refused(web_app, staff, cohort_id):
    """A cohort starts from a year back to five years ahead; a meeting moves within the same
    window (today is 10 March 2025 in these tests)."""
    client = _client(web_app, staff.owner)
    base = {"programme": "digital-lederskab", "title": "", "start": "2025-04-08",
            "timezone": "Europe/Copenhagen", "language": "da", "preview": "1"}
    reschedule = f"/cohorts/{cohort_id}/meetings/webinar-2/reschedule"
    move = {"clock": "13:00", "location": "", "online_url": "", "preview": "1"}
    for day in ("0001-01-01", "9999-12-31", "9999-12-01", "2024-03-09", "2030-03-11"):
        started = client.post("/cohorts/new", data={**base, "start": day})
        assert started.status_code == 400, day
        assert "Vælg en dato mellem 10. mar. 2024 og 10. mar. 2030." in \
            html.unescape(started.get_data(as_text=True))
        moved = client.post(reschedule, data={**move, "day": day})
        assert moved.status_code == 400, day
        assert "Vælg en dato mellem" in moved.get_data(as_text=True)
        row = client.post("/cohorts/new", data={
            **base, "planned_programme": "digital-lederskab", "meetings-0-key": "kickoff",
            "meetings-0-planned": "2025-04-08T13:00", "meetings-0-day": day,
            "meetings-0-clock": "13:00"})
        assert row.status_code == 400, day
    assert client.post("/cohorts/new", data={**base, "start": "2030-03-10"}).status_code == 200
    assert client.post(reschedule, data={**move, "day": "2025-06-19"}).status_code == 200
