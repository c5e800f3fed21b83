"""The groups page: facilitators see, plan, repair and edit groups; every edit is re-checked."""

from __future__ import annotations

import re

import pytest

from cohort import db, services
from cohort.core.participants import ParticipantRow
from tests.fixtures.web import staff_client

LATECOMERS = [
    ParticipantRow("Dorte Lund", "dorte@svendborg.example", "Svendborg Kommune", "Leder", "da"),
    ParticipantRow("Erik Skov", "erik@haderslev.example", "Haderslev Kommune", "Leder", "da"),
    ParticipantRow("Frida Bach", "frida@aabenraa.example", "Aabenraa Kommune", "Leder", "da"),
]
ANNE, BO, CECILIE = "anne@vejle.example", "bo@kolding.example", "cecilie@odense.example"


@pytest.fixture
def client(web_app, staff):
    """The owner's browser, in English, with CSRF tokens taken from the page as a browser
    would send them."""
    return staff_client(web_app, staff.owner, language="en")


def _page(client, cohort_id) -> str:
    response = client.get(f"/cohorts/{cohort_id}/groups")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _post(client, cohort_id, action: str, **data):
    token = re.search(r'name="csrf_token" value="([^"]+)"', _page(client, cohort_id)).group(1)
    return client.post(f"/cohorts/{cohort_id}/groups/{action}",
                       data={"csrf_token": token, **data}, follow_redirects=True)


def _violations(html: str) -> list[str]:
    return re.findall(r'<li class="violation[^"]*">([^<]+)</li>', html)


def _groups(html: str) -> list[list[str]]:
    rows = re.findall(r'<tr id="group-buddies-1-\d+">(.*?)</tr>', html, re.S)
    return [sorted(re.findall(r'<span class="muted">([^<]+)</span>', row)) for row in rows]


def _add_latecomers(web_app, cohort_id) -> None:
    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        services.add_participants(session, services.get_cohort(session, cohort_id), LATECOMERS)


def test_the_page_shows_groups_with_names_explanation_and_score(client, cohort_id):
    html = _page(client, cohort_id)
    assert "Buddyordning" in html and "Score: 100 of 100" in html
    assert _groups(html) == [sorted([ANNE, BO, CECILIE])]
    assert "Anne Jensen" in html and "forskellige organisationer" in html  # cohort language
    assert _violations(html) == []


def test_people_who_joined_are_shown_as_violations_until_repaired(web_app, client, cohort_id):
    _add_latecomers(web_app, cohort_id)
    html = _page(client, cohort_id)
    assert any("Dorte Lund" in v for v in _violations(html))
    repaired = _post(client, cohort_id, "repair", grouping="buddies")
    html = repaired.get_data(as_text=True)
    assert repaired.status_code == 200 and "groups changed" in html
    assert "Saved. No hard rule is broken." in html and _violations(html) == []
    groups = _groups(html)
    assert sorted(e for g in groups for e in g) == sorted(
        [ANNE, BO, CECILIE] + [p.email for p in LATECOMERS])
    assert all(2 <= len(g) <= 3 for g in groups)


def test_plan_again_with_a_seed_and_bad_seeds(web_app, client, cohort_id):
    _add_latecomers(web_app, cohort_id)
    planned = _post(client, cohort_id, "plan", grouping="buddies", seed="7")
    html = planned.get_data(as_text=True)
    assert "Saved. No hard rule is broken." in html and len(_groups(html)) == 3
    for seed in ("-1", "x", ""):
        refused = _post(client, cohort_id, "plan", grouping="buddies", seed=seed)
        assert refused.status_code == 400 and "Nothing was changed" in refused.get_data(
            as_text=True)
    unknown = _post(client, cohort_id, "plan", grouping="teams", seed="1")
    assert unknown.status_code == 400 and "no grouping &#39;teams&#39;" in unknown.get_data(
        as_text=True)


def test_moving_a_person_is_kept_and_its_broken_rules_shown(client, cohort_id):
    moved = _post(client, cohort_id, "move", grouping="buddies", rotation="1", person=ANNE,
                  to_group="new")
    html = moved.get_data(as_text=True)
    assert "Saved, but 2 hard rules are broken" in html
    assert _groups(html) == [sorted([BO, CECILIE]), [ANNE]]
    # In the cohort's language: a group of one is too small, and 3 people make one group.
    assert _violations(html) == ["gruppe 2 har 1 medlemmer; tilladt er 2-3",
                                 "2 grupper; 3 deltagere skal være i 1 grupper"]
    back = _post(client, cohort_id, "move", grouping="buddies", rotation="1", person=ANNE,
                 to_group="1")
    assert _groups(back.get_data(as_text=True)) == [sorted([ANNE, BO, CECILIE])]
    for bad in ({"person": "nobody@x.example", "to_group": "1"},
                {"person": ANNE, "to_group": "9"}, {"person": ANNE, "to_group": "x"},
                {"person": ANNE, "to_group": "1", "rotation": "5"}):
        refused = _post(client, cohort_id, "move", **{"grouping": "buddies", "rotation": "1",
                                                      **bad})
        assert refused.status_code == 400, bad
        assert "Nothing was changed" in refused.get_data(as_text=True)
    assert _groups(_page(client, cohort_id)) == [sorted([ANNE, BO, CECILIE])]


def test_lock_forbid_and_drop_pair_rules(client, cohort_id):
    forbidden = _post(client, cohort_id, "rules", kind="apart", first=ANNE, second=BO,
                      scope="")
    html = forbidden.get_data(as_text=True)
    assert "Saved, but 1 hard rule is broken" in html
    assert len(_violations(html)) == 1 and "never together" in html
    assert "Anne Jensen · Bo Holm" in html and "every grouping" in html
    # Locking the same pair replaces the ban.
    locked = _post(client, cohort_id, "rules", kind="together", first=BO, second=ANNE,
                   scope="buddies")
    html = locked.get_data(as_text=True)
    assert "always together" in html
    dropped = _post(client, cohort_id, "rules/drop", first=ANNE, second=BO, scope="")
    html = dropped.get_data(as_text=True)
    assert "Saved. No hard rule is broken." in html and _violations(html) == []
    assert "Anne Jensen · Bo Holm" in html  # the lock for "buddies" remains
    _post(client, cohort_id, "rules/drop", first=ANNE, second=BO, scope="buddies")
    assert "No rules yet." in _page(client, cohort_id)
    same = _post(client, cohort_id, "rules", kind="apart", first=ANNE, second=ANNE, scope="")
    assert same.status_code == 400 and "two different participants" in same.get_data(
        as_text=True)


def test_edits_need_the_csrf_token(client, cohort_id):
    response = client.post(f"/cohorts/{cohort_id}/groups/move",
                           data={"grouping": "buddies", "rotation": "1", "person": ANNE,
                                 "to_group": "new"})
    assert response.status_code == 400
    assert _groups(_page(client, cohort_id)) == [sorted([ANNE, BO, CECILIE])]
