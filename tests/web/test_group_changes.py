"""Planning again or repairing groups that participants were told about: the page asks first,
shows who gets a new partner, and only those people are emailed; a draft is never asked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from cohort import db, services
from cohort.core import deliveries as kinds
from cohort.demo import demo_participants
from cohort.models import CohortRole, CohortStaff, Delivery
from tests.fixtures.web import COHORT_START, WEB_NOW, staff_client

PEOPLE = demo_participants(12)


@pytest.fixture
def client(web_app, staff):
    return staff_client(web_app, staff.owner, language="en")


def cohort_of(engine, make_cohort, staff, *, launched=True, told=True) -> int:
    cohort_id = make_cohort(engine, people=PEOPLE, start=COHORT_START, now=WEB_NOW,
                            launched=launched).id
    with db.transaction(engine) as session:
        session.add(CohortStaff(cohort_id=cohort_id, user_id=staff.owner.id,
                                role=CohortRole.OWNER))
        if told:  # what the outbox records once the welcome went out
            session.execute(update(Delivery).where(
                Delivery.cohort_id == cohort_id, Delivery.kind == kinds.WELCOME,
            ).values(state=kinds.SENT, sent_at=WEB_NOW))
    return cohort_id


def token(client, cohort_id) -> str:
    html = client.get(f"/cohorts/{cohort_id}/groups").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def members(engine, cohort_id) -> list[list[str]]:
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
    return sorted(sorted(g.members) for g in view.result.rotations[0].groups)


def notices(engine, cohort_id) -> list[Delivery]:
    with db.transaction(engine) as session:
        return list(session.scalars(select(Delivery).where(
            Delivery.cohort_id == cohort_id, Delivery.kind == kinds.GROUPS_CHANGED)))


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_plan_again_asks_shows_the_diff_and_emails_only_those_who_change(
        client, engine_of_app, make_cohort, staff):
    engine = engine_of_app
    cohort_id = cohort_of(engine, make_cohort, staff)
    before = members(engine, cohort_id)
    with db.transaction(engine) as session:
        expected = services.group_changes.preview(session, cohort_id, "plan", seed=7)
    asked = client.post(f"/cohorts/{cohort_id}/groups/plan",
                        data={"csrf_token": token(client, cohort_id), "grouping": "buddies",
                              "seed": "7"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Change the groups of Buddyordning?" in html
    assert members(engine, cohort_id) == before and notices(engine, cohort_id) == []
    rows = re.findall(r'<tr data-person="([^"]+)">(.*?)</tr>', html, re.S)
    assert [person for person, _ in rows] == [c.person for c in expected.changes]
    for (person, row), change in zip(rows, expected.changes, strict=True):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        names = expected.names
        assert cells[0] == ", ".join(names[p] for p in change.before), person
        assert cells[1] == ", ".join(names[p] for p in change.after), person
        assert "emailed" in cells[2]
    changed = set(expected.changed_people)
    assert 0 < len(changed) < len(PEOPLE)
    assert f"email {len(changed)} people" in html
    # Confirming without the CSRF token changes nothing.
    refused = client.post(f"/cohorts/{cohort_id}/groups/plan",
                          data={"grouping": "buddies", "seed": "7",
                                "confirmed": hidden(html, "confirmed")})
    assert refused.status_code == 400 and members(engine, cohort_id) == before
    confirmed = client.post(f"/cohorts/{cohort_id}/groups/plan", data={
        "csrf_token": hidden(html, "csrf_token"), "grouping": "buddies",
        "seed": hidden(html, "seed"), "confirmed": hidden(html, "confirmed")},
        follow_redirects=True)
    page = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200
    assert f"{len(changed)} people have a new partner; {len(changed)} of them get an email" \
        in page
    assert members(engine, cohort_id) != before
    sent = notices(engine, cohort_id)
    assert {d.recipient for d in sent} == changed and len(sent) == len(changed)
    activity = client.get(f"/cohorts/{cohort_id}/activity").get_data(as_text=True)
    assert (f"changed the groups of Buddyordning: {len(changed)} people have a new partner, "
            f"{len(changed)} emailed") in activity


def test_a_stale_confirmation_shows_the_new_change_instead(client, engine_of_app, make_cohort,
                                                             staff):
    engine = engine_of_app
    cohort_id = cohort_of(engine, make_cohort, staff)
    before = members(engine, cohort_id)
    asked = client.post(f"/cohorts/{cohort_id}/groups/plan", data={
        "csrf_token": token(client, cohort_id), "grouping": "buddies", "seed": "7"})
    fingerprint = hidden(asked.get_data(as_text=True), "confirmed")
    again = client.post(f"/cohorts/{cohort_id}/groups/plan", data={
        "csrf_token": token(client, cohort_id), "grouping": "buddies", "seed": "8",
        "confirmed": fingerprint})
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and 'id="stale"' in html
    assert hidden(html, "confirmed") != fingerprint
    assert members(engine, cohort_id) == before and notices(engine, cohort_id) == []


@pytest.mark.parametrize("launched", [False, True])
def test_groups_nobody_was_told_change_at_once_and_nothing_is_sent(
        client, engine_of_app, make_cohort, staff, launched):
    """A draft (nothing can have been sent), or launched before its welcome went out."""
    engine = engine_of_app
    cohort_id = cohort_of(engine, make_cohort, staff, launched=launched, told=False)
    before = members(engine, cohort_id)
    done = client.post(f"/cohorts/{cohort_id}/groups/plan", data={
        "csrf_token": token(client, cohort_id), "grouping": "buddies", "seed": "7"})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "people have a new partner" in page and "get an email" not in page
    assert members(engine, cohort_id) != before and notices(engine, cohort_id) == []


def test_repair_after_someone_leaves_asks_and_emails_the_few_who_change(
        client, engine_of_app, make_cohort, staff):
    engine = engine_of_app
    cohort_id = cohort_of(engine, make_cohort, staff)
    with db.transaction(engine) as session:
        services.participants.remove_participant_by_email(session, cohort_id,
                                                          PEOPLE[0].email, now=WEB_NOW)
        expected = services.group_changes.preview(session, cohort_id, "repair")
    asked = client.post(f"/cohorts/{cohort_id}/groups/repair", data={
        "csrf_token": token(client, cohort_id), "grouping": "buddies"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'id="group-changes"' in html
    assert 0 < len(expected.changed_people) <= 3  # only the left-alone buddy's group changes
    done = client.post(f"/cohorts/{cohort_id}/groups/repair", data={
        "csrf_token": hidden(html, "csrf_token"), "grouping": "buddies",
        "confirmed": hidden(html, "confirmed")}, follow_redirects=True)
    flashed = done.get_data(as_text=True)
    changed = len(expected.changed_people)
    assert (f"1 group changed; {changed} people have a new partner; {changed} of them get an "
            "email about it.") in flashed
    assert {d.recipient for d in notices(engine, cohort_id)} == set(expected.changed_people)


def test_moving_a_person_asks_and_emails_the_mover_and_their_new_group(
        client, engine_of_app, make_cohort, staff):
    engine = engine_of_app
    cohort_id = cohort_of(engine, make_cohort, staff)
    before = members(engine, cohort_id)
    with db.transaction(engine) as session:
        view = services.list_groups(session, cohort_id)
    groups, target = view.result.rotations[0].groups, view.numbers[0][1]
    mover, joined = groups[0].members[0], set(groups[1].members)
    form = {"grouping": "buddies", "rotation": "1", "person": mover, "to_group": str(target)}
    asked = client.post(f"/cohorts/{cohort_id}/groups/move",
                        data={"csrf_token": token(client, cohort_id), **form})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Change the groups of Buddyordning?" in html
    assert members(engine, cohort_id) == before and notices(engine, cohort_id) == []
    assert {hidden(html, name) for name in ("person", "rotation", "to_group")} == {
        mover, "1", str(target)}
    assert f"email {1 + len(joined)} people" in html
    confirmed = client.post(f"/cohorts/{cohort_id}/groups/move", data={
        "csrf_token": hidden(html, "csrf_token"), "confirmed": hidden(html, "confirmed"),
        **{name: hidden(html, name) for name in ("grouping", "person", "rotation",
                                                  "to_group")}}, follow_redirects=True)
    page = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200 and "of them get an email" in page
    assert members(engine, cohort_id) != before
    assert {d.recipient for d in notices(engine, cohort_id)} == {mover, *joined}
