"""The participant's buddy or team on their page, read from the stored groups."""

from __future__ import annotations

import pytest

from cohort import db, services
from cohort.core.participants import ParticipantRow
from cohort.models import Group, GroupMember
from tests.fixtures.web import WEB_NOW, participant_client

TEAM = [
    ParticipantRow("Anne Jensen", "anne@vejle.example", "Vejle Kommune", "ledelseskraft", "en"),
    ParticipantRow("Bo Holm", "bo@kolding.example", "Kolding Kommune", "specialist", "da"),
    ParticipantRow("Cecilie Dahl", "cecilie@odense.example", "Odense Kommune", "facilitator",
                   "da"),
    ParticipantRow("Dan Eriksen", "dan@aarhus.example", "", "", "da"),
    ParticipantRow("Eva Lund", "eva@aalborg.example", "Aalborg Kommune", "interesse", "da"),
]


@pytest.fixture
def database_url(sqlite_only_url):
    """Page behaviour, not storage (the services run on PostgreSQL in their own tests)."""
    return sqlite_only_url


def section(html: str) -> str:
    return html.split('id="groups"')[1].split("</section>")[0]


def test_team_members_with_their_contact_details(web_app, engine_of_app, make_cohort):
    cohort = make_cohort(engine_of_app, people=TEAM, programme="ledelse-i-digitalisering",
                         title="Hold", now=WEB_NOW)
    with db.transaction(engine_of_app) as session:
        people = {p.email: p for p in services.participants.list_participants(session,
                                                                               cohort.id)}

        def group(number: int, rotation: int, *emails: str) -> None:
            row = Group(cohort_id=cohort.id, grouping_key="projektteams", number=number,
                        rotation=rotation)
            session.add(row)
            session.flush()
            session.add_all(GroupMember(group_id=row.id, participant_id=people[e].id)
                            for e in emails)

        # An earlier rotation, then the current one: the page shows the current team.
        group(1, 1, "anne@vejle.example", "eva@aalborg.example")
        group(3, 2, "anne@vejle.example", "bo@kolding.example", "cecilie@odense.example",
              "dan@aarhus.example")
        group(4, 2, "eva@aalborg.example")
    client = participant_client(web_app, people["anne@vejle.example"])
    groups = section(client.get("/me").get_data(as_text=True))
    assert "Projektteams · team 3" in groups
    assert ('<strong>Bo Holm</strong><br>Kolding Kommune, specialist<br>'
            '<a href="mailto:bo@kolding.example">bo@kolding.example</a>') in groups
    assert "<strong>Dan Eriksen</strong><br><a href=\"mailto:dan@aarhus.example\">" in groups
    assert "Cecilie Dahl" in groups
    assert "Eva Lund" not in groups and "anne@vejle.example" not in groups
    # Eva's current team has no one else in it (yet): she is told so, not shown an empty list.
    other = participant_client(web_app, people["eva@aalborg.example"])
    alone = section(other.get("/me").get_data(as_text=True))
    assert "Anne Jensen" not in alone and "<ul" not in alone


def test_no_group_yet(web_app, cohort_id, first_participant):
    from sqlalchemy import delete

    from cohort.models import Group

    with db.transaction(web_app.extensions["cohort.engine"]) as session:
        session.execute(delete(Group).where(Group.cohort_id == cohort_id))  # formed at creation
    client = participant_client(web_app, first_participant)
    groups = section(client.get("/me").get_data(as_text=True))
    assert "<h3>" not in groups and "<p>" in groups
