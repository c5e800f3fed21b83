"""An id in a URL beyond what the database holds is a page that does not exist (404), not a
500 from the database ("integer out of range" on PostgreSQL, OverflowError on SQLite)."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.web import sign_in, sign_in_participant, staff_client

OTHER_ARGUMENTS = {"meeting_key": "kickoff", "survey_key": "final", "template_key": "x",
                   "guide_key": "x", "job_id": "x", "fmt": "csv", "token": "x",
                   "programme_id": "digital-lederskab"}


def id_routes(app):
    """(rule, the id arguments, a method) for every route with an id in its path."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        ids = re.findall(r"<int:(\w+)>", rule.rule)
        if ids:
            yield rule, ids, "GET" if "GET" in rule.methods else "POST"


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_beyond_the_database_range_are_404(web_app, staff, cohort_id, first_participant,
                                               huge):
    web_app.config["WTF_CSRF_ENABLED"] = False
    staff_client, participant_client = web_app.test_client(), web_app.test_client()
    sign_in(staff_client, staff.admin)
    sign_in_participant(participant_client, first_participant)
    routes = list(id_routes(web_app))
    assert len(routes) >= 20
    for rule, ids, method in routes:
        for name in ids:
            values = {**OTHER_ARGUMENTS, **{n: cohort_id for n in ids}, name: huge}
            path = rule.build(values, append_unknown=False)[1]
            client = participant_client if rule.rule.startswith("/me") else staff_client
            response = client.open(path, method=method)
            assert response.status_code == 404, (method, path, response.status_code)


def test_the_largest_id_a_database_holds_is_still_looked_up(web_app, staff, cohort_id):
    client = staff_client(web_app, staff.admin)
    assert client.get(f"/cohorts/{2**31 - 1}").status_code == 404
    assert client.get(f"/cohorts/{cohort_id}").status_code == 200
