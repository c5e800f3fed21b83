"""The participant's calendar from their page: the webcal:// subscription and the download."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from cohort import db, services
from cohort.models import Meeting, Task
from tests.fixtures.ics import parse_both
from tests.fixtures.statements import recorded_statements
from tests.fixtures.web import participant_client

WEBCAL = re.compile(r'href="(webcal://localhost/calendar/[A-Za-z0-9_-]{43}\.ics)"')


@pytest.fixture
def database_url(sqlite_only_url):
    """Page behaviour, not storage (the services run on PostgreSQL in their own tests)."""
    return sqlite_only_url


def test_page_links_the_subscription_and_the_download(web_app, engine_of_app, cohort_id,
                                                      first_participant):
    client = participant_client(web_app, first_participant)
    page = client.get("/me").get_data(as_text=True)
    webcal = WEBCAL.search(page).group(1)
    assert 'href="/me/calendar.ics"' in page
    download = client.get("/me/calendar.ics")
    assert download.status_code == 200
    assert download.content_type == "text/calendar; charset=utf-8"
    assert download.headers["Content-Disposition"] == \
        'attachment; filename=hold-1-anne-jensen.ics'
    # The subscription serves the same calendar, live and without a login.
    feed = web_app.test_client().get(urlsplit(webcal).path)
    assert feed.status_code == 200 and feed.data == download.data
    events = parse_both(download.data)
    with db.transaction(engine_of_app) as session:
        meetings = set(session.scalars(select(Meeting.uid).where(Meeting.cohort_id == cohort_id)))
        deadlines = session.scalar(select(func.count()).select_from(Task).where(
            Task.cohort_id == cohort_id, Task.due_at.is_not(None)))
    assert meetings <= {e.uid for e in events}
    assert len(events) == len(meetings) + deadlines  # meetings and own task deadlines
    # The same link on every visit (it is made once, stored hashed).
    assert WEBCAL.search(client.get("/me").get_data(as_text=True)).group(1) == webcal


def test_revoked_subscription_is_not_offered_again(web_app, engine_of_app, first_participant):
    client = participant_client(web_app, first_participant)
    webcal = WEBCAL.search(client.get("/me").get_data(as_text=True)).group(1)
    with db.transaction(engine_of_app) as session:
        services.revoke_calendar_feed(session, first_participant.id)
    page = client.get("/me").get_data(as_text=True)
    assert WEBCAL.search(page) is None and 'href="/me/calendar.ics"' in page
    assert web_app.test_client().get(urlsplit(webcal).path).status_code == 404
    assert client.get("/me/calendar.ics").status_code == 200


def test_download_needs_the_participants_own_session(web_app, cohort_id):
    assert web_app.test_client().get("/me/calendar.ics").status_code == 403


def test_only_the_first_view_writes(web_app, engine_of_app, first_participant):
    """The feed is made on the first view of /me; later views only read (no INSERT, UPDATE
    or DELETE, so no write transaction on a GET) and offer the same subscription."""

    client = participant_client(web_app, first_participant)
    def verbs(statements: list[str]) -> set[str]:
        return {statement.lstrip().split(None, 1)[0].upper() for statement in statements}

    with recorded_statements(engine_of_app) as statements:
        first = WEBCAL.search(client.get("/me").get_data(as_text=True)).group(1)
        assert "INSERT" in verbs(statements)
        statements.clear()
        again = WEBCAL.search(client.get("/me").get_data(as_text=True)).group(1)
    assert again == first
    assert statements and not {"INSERT", "UPDATE", "DELETE"} & verbs(statements)
