"""Checking in from the participant's page, and their own attendance record."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cohort import db, services
from cohort.core.attendance import Mark, format_code
from cohort.core.participants import ParticipantRow
from cohort.models import Attendance, Meeting
from tests.fixtures.web import COHORT_START, WEB_NOW, participant_client

CSRF = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')
# The kick-off webinar (online) is 8 April 2025 13:00-15:00 Copenhagen time; workshop 1 (in
# person) 17 April 09:00-15:00.
DURING_KICKOFF = datetime(2025, 4, 8, 11, 30, tzinfo=UTC)
DURING_WORKSHOP = datetime(2025, 4, 17, 8, 0, tzinfo=UTC)


@pytest.fixture
def database_url(sqlite_only_url):
    """Page behaviour, not storage (the services run on PostgreSQL in their own tests)."""
    return sqlite_only_url


def engine(app):
    return app.extensions["cohort.engine"]


def meeting(app, cohort_id: int, key: str) -> Meeting:
    with db.transaction(engine(app)) as session:
        return services.get_meeting(session, cohort_id, key)


def marks(app) -> list[Attendance]:
    with db.transaction(engine(app)) as session:
        return list(session.scalars(select(Attendance)))


@pytest.fixture
def client(web_app, first_participant):
    """Signed in as the first participant, who reads the page in English."""
    return participant_client(web_app, first_participant, language="en")


def check_in(client, meeting_id: int, code: str | None = None) -> str:
    """Post the page's check-in form and return the page it leads back to."""
    page = client.get("/me").get_data(as_text=True)
    token = dict(CSRF.findall(page)).get(f"checkin-{meeting_id}-csrf_token") or \
        dict(CSRF.findall(page))["csrf_token"]
    data = {f"checkin-{meeting_id}-csrf_token": token}
    if code is not None:
        data[f"checkin-{meeting_id}-code"] = code
    response = client.post(f"/me/meetings/{meeting_id}/check-in", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    return client.get("/me").get_data(as_text=True)


def test_online_meeting_check_in_while_it_runs(web_app, cohort_id, first_participant, client):
    web_app.config["COHORT_NOW"] = DURING_KICKOFF
    kickoff = meeting(web_app, cohort_id, "kickoff")
    page = client.get("/me").get_data(as_text=True)
    card = page.split(f'id="check-in-{kickoff.id}"')[1].split("</li>")[0]
    assert 'type="submit"' in card and "-code" not in card  # online: no code asked
    after = check_in(client, kickoff.id)
    assert "You are checked in to Kick-off-webinar. Welcome!" in after
    assert "You are checked in." in after.split(f'id="check-in-{kickoff.id}"')[1]
    record = after.split('id="attendance"')[1]
    assert re.search(r"Kick-off-webinar</strong>, [^:]+13:00:\s+present", record)
    (mark,) = marks(web_app)
    assert (mark.participant_id, mark.state, mark.source) == \
        (first_participant.id, "present", "check_in")


def test_in_person_meeting_needs_the_code_shown_in_the_room(web_app, cohort_id,
                                                            first_participant, client):
    web_app.config["COHORT_NOW"] = DURING_WORKSHOP
    workshop = meeting(web_app, cohort_id, "workshop-1")
    page = client.get("/me").get_data(as_text=True)
    assert f'name="checkin-{workshop.id}-code"' in page
    assert "The facilitator has not shown a check-in code" in check_in(client, workshop.id,
                                                                       "ABC123")
    with db.transaction(engine(web_app)) as session:
        code = services.check_in_code(session, cohort_id, "workshop-1", "owner@cohort.example")
    wrong = "AAAAAA" if code != "AAAAAA" else "CCCCCC"
    assert "That is not the code shown in the room." in check_in(client, workshop.id, wrong)
    assert marks(web_app) == []
    after = check_in(client, workshop.id, format_code(code).lower())  # as read aloud
    assert "You are checked in to Workshop 1. Welcome!" in after
    assert [m.state for m in marks(web_app)] == ["present"]


def test_wrong_codes_are_throttled_per_participant(web_app, cohort_id, first_participant,
                                                   client):
    web_app.config["COHORT_NOW"] = DURING_WORKSHOP
    workshop = meeting(web_app, cohort_id, "workshop-1")
    with db.transaction(engine(web_app)) as session:
        code = services.check_in_code(session, cohort_id, "workshop-1")
    wrong = "AAAAAA" if code != "AAAAAA" else "CCCCCC"
    for _ in range(5):
        assert "That is not the code shown in the room." in check_in(client, workshop.id, wrong)
    page = check_in(client, workshop.id, code)  # even the right code must wait now
    assert "Too many wrong codes." in page and marks(web_app) == []
    # Another participant is not held up by it.
    with db.transaction(engine(web_app)) as session:
        other = services.participants.list_participants(session, cohort_id)[1]
    other_client = participant_client(web_app, other)
    check_in(other_client, workshop.id, code)
    assert [m.participant_id for m in marks(web_app)] == [other.id]


def test_check_in_outside_the_window_is_refused_with_the_reason(web_app, cohort_id, client):
    kickoff = meeting(web_app, cohort_id, "kickoff")
    web_app.config["COHORT_NOW"] = datetime(2025, 4, 8, 10, 0, tzinfo=UTC)
    assert f'id="check-in-{kickoff.id}"' not in client.get("/me").get_data(as_text=True)
    page = check_in(client, kickoff.id)
    assert "Check-in is not open yet. It opens Tuesday, 8 April 2025 12:45." in page
    web_app.config["COHORT_NOW"] = datetime(2025, 4, 8, 14, 0, tzinfo=UTC)
    page = check_in(client, kickoff.id)
    assert "Check-in for this meeting closed Tuesday, 8 April 2025 15:30." in page
    assert marks(web_app) == []


def test_meetings_of_other_cohorts_are_404(web_app, cohort_id, client, make_cohort):
    web_app.config["COHORT_NOW"] = DURING_KICKOFF
    other = make_cohort(engine(web_app), people=[ParticipantRow("Eva", "eva@x.example")],
                        start=COHORT_START, title="Hold 2", now=WEB_NOW).id
    foreign = meeting(web_app, other, "kickoff")
    token = dict(CSRF.findall(client.get("/me").get_data(as_text=True)))["csrf_token"]
    for meeting_id in (foreign.id, 999999):
        response = client.post(f"/me/meetings/{meeting_id}/check-in",
                               data={f"checkin-{meeting_id}-csrf_token": token})
        assert response.status_code == 404
    assert marks(web_app) == []


def test_the_page_shows_only_the_participants_own_record(web_app, cohort_id,
                                                         first_participant, client):
    web_app.config["COHORT_NOW"] = datetime(2025, 5, 20, 9, 0, tzinfo=UTC)
    with db.transaction(engine(web_app)) as session:
        people = services.participants.list_participants(session, cohort_id)
        other = next(p for p in people if p.id != first_participant.id)
        services.set_marks(session, cohort_id, "kickoff",
                           {first_participant.id: Mark("absent", "syg"), other.id: Mark("present")},
                           now=datetime(2025, 4, 9, tzinfo=UTC))
        services.set_marks(session, cohort_id, "workshop-1", {other.id: Mark("absent")},
                           now=datetime(2025, 4, 18, tzinfo=UTC))
    record = client.get("/me").get_data(as_text=True).split('id="attendance"')[1]
    record = record.split("</section>")[0]
    assert re.search(r"Kick-off-webinar</strong>[^<]*:\s+absent", record)
    assert re.search(r"Workshop 1</strong>[^<]*:\s+not recorded yet", record)
    assert re.search(r"Webinar 1</strong>[^<]*:\s+not recorded yet", record)
    assert "Webinar 2" not in record  # not yet held
    assert "syg" not in record and other.name not in record
